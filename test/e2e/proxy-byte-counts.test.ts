/**
 * The `closed` connection event's byte counts (issue 11, item 9), exact, through the real
 * pgscope process with --jsonl: `bytesFromClient` is every byte the client sent
 * (SSLRequest and startup included), `bytesFromServer` every byte the server sent to pgscope
 * (its answer to pgscope's own SSLRequest included), both decrypted. Bytes pgscope itself
 * wrote to the client (its 'S' answer, its ErrorResponse) belong to neither. A client here
 * counts what it sent and received itself, after TLS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { freePort } from '../helpers/ports.js';
import { fe } from '../helpers/raw-client.js';
import { eventually, Scopes } from '../helpers/tls-e2e.js';

const T = { timeout: 120_000 };

/** A PostgreSQL client that counts every byte it sends and receives (decrypted). */
class CountingClient {
  sent = 0;
  received = 0;
  /** Bytes received before TLS (the one-byte SSLRequest answer). */
  receivedBeforeTls = 0;
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;
  private sock: net.Socket | tls.TLSSocket;
  readonly closed: Promise<void>;

  private constructor(s: net.Socket) {
    this.sock = s;
    this.closed = new Promise((r) => s.once('close', () => r()));
    this.attach(s);
  }

  static connect(port: number): Promise<CountingClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(new CountingClient(s));
      });
      s.once('error', reject);
    });
  }

  private attach(s: net.Socket | tls.TLSSocket): void {
    s.on('data', (b: Buffer) => {
      this.received += b.length;
      this.buf = Buffer.concat([this.buf, b]);
      this.wake?.();
    });
    s.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    s.on('error', () => {});
  }

  send(b: Buffer): void {
    this.sent += b.length;
    this.sock.write(b);
  }

  private async take(n: () => number): Promise<Buffer> {
    for (;;) {
      const k = n();
      if (k > 0 && this.buf.length >= k) {
        const out = this.buf.subarray(0, k);
        this.buf = this.buf.subarray(k);
        return out;
      }
      if (this.ended) throw new Error('connection ended');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 30_000);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  readByte(): Promise<string> {
    return this.take(() => 1).then((b) => b.toString('latin1'));
  }

  /** Messages through the first of this type; their type bytes. */
  async readUntil(type: string): Promise<string> {
    let types = '';
    for (;;) {
      const m = await this.take(() => (this.buf.length >= 5 ? 1 + this.buf.readInt32BE(1) : 0));
      types += String.fromCharCode(m[0]!);
      if (types.endsWith(type)) return types;
    }
  }

  async startTls(): Promise<void> {
    const plain = this.sock as net.Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    this.receivedBeforeTls = this.received;
    const t = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      t.once('secureConnect', () => resolve());
      t.once('error', reject);
    });
    this.sock = t;
    this.attach(t);
  }
}

interface Closed {
  bytesFromClient: number;
  bytesFromServer: number;
  reason: string;
}

let server: PgServer;
let dir: string;
const scopes = new Scopes();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-bytes-'));
  server = await startPgServer({ version: 15, ssl: true, auth: 'trust' });
});
afterEach(() => scopes.stopAll());
after(async () => {
  await scopes.stopAll();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** pgscope with --jsonl; resolves to the port and a reader of conn 1's closed event. */
async function scope(args: string[]): Promise<{ port: number; closed(): Promise<Closed> }> {
  const file = join(dir, `trace-${++n}.jsonl`);
  const p = await scopes.start([...args, '--jsonl', file]);
  const closed = (): Promise<Closed> =>
    eventually(() => {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
      return text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((o) => o['type'] === 'connection' && o['conn'] === 1 && o['phase'] === 'closed') as Closed | undefined;
    }, 'the closed connection event in the JSON lines');
  return { port: p.port, closed };
}

/** Startup (trust), one query, Terminate; the client's own counts. */
async function session(c: CountingClient): Promise<void> {
  c.send(fe.startup({ user: 'postgres', database: 'postgres' }));
  await c.readUntil('Z');
  c.send(fe.query('SELECT 1'));
  await c.readUntil('Z');
  c.send(fe.terminate());
  await c.closed;
}

describe('closed event: bytesFromClient / bytesFromServer are what each peer sent', () => {
  it('TLS client leg (SSLRequest), plaintext server leg: the client\'s SSLRequest counts, pgscope\'s own "S" is not the server\'s', T, async () => {
    const s = await scope(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'disable']);
    const c = await CountingClient.connect(s.port);
    c.send(fe.sslRequest());
    assert.equal(await c.readByte(), 'S');
    await c.startTls();
    await session(c);
    const closed = await s.closed();
    assert.equal(c.receivedBeforeTls, 1);
    assert.deepEqual([closed.bytesFromClient, closed.bytesFromServer], [c.sent, c.received - 1], `the client sent ${c.sent} bytes and received ${c.received} (1 of them pgscope's "S")`);
  });

  it('plaintext client leg, TLS server leg: the server\'s answer to pgscope\'s SSLRequest is a byte the server sent', T, async () => {
    const s = await scope(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port)]);
    const c = await CountingClient.connect(s.port);
    await session(c);
    const closed = await s.closed();
    assert.deepEqual([closed.bytesFromClient, closed.bytesFromServer], [c.sent, c.received + 1], `the client sent ${c.sent} bytes and received ${c.received}; the server also sent pgscope its "S"`);
  });

  it('a server that cannot be reached: pgscope\'s own ErrorResponse is not the server\'s', T, async () => {
    const s = await scope(['--server-host', '127.0.0.1', '--server-connect-port', String(await freePort()), '--server-sslmode', 'disable']);
    const c = await CountingClient.connect(s.port);
    c.send(fe.startup({ user: 'postgres', database: 'postgres' }));
    assert.equal(await c.readUntil('E'), 'E');
    await c.closed;
    const closed = await s.closed();
    assert.ok(c.received > 0);
    assert.deepEqual([closed.bytesFromClient, closed.bytesFromServer], [c.sent, 0]);
  });
});
