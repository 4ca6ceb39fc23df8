/**
 * src/net/admission.ts on its own (issue 11, item 6): the descriptor limit read from
 * /proc/self/limits, the reserve and its recovery on a simulated descriptor table, the
 * rate-limited lines, and the Admission with real sockets: --max-connections refusals after
 * the negotiation and the startup packet (plaintext, GSSENCRequest, SSLRequest with TLS or
 * 'N', direct TLS), CancelRequests handed over with their bytes (plaintext and over TLS) and
 * not counted, refusals when out of descriptors and the recovery, accept() errors, the
 * bound on refusals waiting for a startup packet.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { before, describe, it } from 'node:test';
import { Admission, DescriptorGuard, RateLimitedLine, readDescriptorLimit, REFUSAL_HANDSHAKES, type AdmissionOptions, type DescriptorOps } from '../../../src/net/admission.js';
import { ClientTlsContexts } from '../../../src/net/client-tls.js';
import type { ProxyEvent } from '../../../src/session/events.js';
import { GeneratedCertificates } from '../../../src/tls/certificates.js';
import { waitUntil } from '../../helpers/traffic-util.js';
import { errorFields, fe, PgError, RawClient } from '../../helpers/raw-client.js';

/** A descriptor table of `size` slots, as openSync would see it. */
function table(size: number): { ops: DescriptorOps; open: Set<number>; fill(): number[]; size: number } {
  const open = new Set<number>();
  let next = 1000;
  const t = {
    size,
    open,
    ops: {
      open: () => {
        if (open.size >= t.size) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        open.add(next);
        return next++;
      },
      close: (fd: number) => void open.delete(fd),
    },
    fill: () => {
      const taken: number[] = [];
      while (open.size < t.size) taken.push(t.ops.open());
      return taken;
    },
  };
  return t;
}

describe('readDescriptorLimit', () => {
  it('reads the soft and hard open-file limits from /proc/self/limits', () => {
    const text = ['Limit                     Soft Limit           Hard Limit           Units     ', 'Max cpu time              unlimited            unlimited            seconds   ', 'Max open files            300                  4096                 files     ', ''].join('\n');
    assert.deepEqual(readDescriptorLimit(text), { soft: 300, hard: 4096 });
    assert.deepEqual(readDescriptorLimit('Max open files            unlimited            unlimited            files'), { soft: null, hard: null });
    assert.deepEqual(readDescriptorLimit('nothing here'), { soft: null, hard: null });
  });

  it('this process: numbers, soft at most hard', () => {
    const l = readDescriptorLimit();
    if (l.soft !== null && l.hard !== null) assert.ok(l.soft <= l.hard);
  });
});

describe('DescriptorGuard', () => {
  it('holds a reserve, tells when no descriptor is free, gives the reserve back one by one, takes it back only with headroom', () => {
    const t = table(20);
    const g = new DescriptorGuard(t.ops, 4, 8);
    assert.equal(g.held, 4);
    assert.equal(g.probe(), true);
    assert.equal(t.open.size, 4, 'the probe closes what it opened');
    const taken = t.fill();
    assert.equal(g.probe(), 'EMFILE');
    assert.equal(g.release(), true);
    assert.equal(g.held, 3);
    assert.equal(g.probe(), true);
    g.out = 'EMFILE';
    // One free slot and one missing from the reserve: 1 + 8 needed, not there; nothing kept.
    const before = t.open.size;
    assert.equal(g.recover(), false);
    assert.equal(t.open.size, before);
    assert.equal(g.out, 'EMFILE');
    for (const fd of taken.slice(0, 10)) t.ops.close(fd);
    assert.equal(g.recover(), true);
    assert.equal(g.held, 4);
    assert.equal(g.out, null);
    g.close();
    assert.equal(g.held, 0);
  });

  it('other failures (no /dev/null) are no verdict', () => {
    const g = new DescriptorGuard({ open: () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); }, close: () => undefined }, 4, 8);
    assert.equal(g.held, 0);
    assert.equal(g.probe(), true);
  });
});

describe('RateLimitedLine', () => {
  it('says the first at once, counts the rest of the interval, says them together', async () => {
    const said: [number, boolean][] = [];
    // An interval long enough that a loaded machine cannot let it pass between two steps below.
    const line = new RateLimitedLine(1000, Date.now, (n, first) => said.push([n, first]));
    line.hit();
    assert.deepEqual(said, [[1, true]]);
    line.hit();
    line.hit();
    line.hit();
    assert.equal(said.length, 1);
    await waitUntil(() => said.length === 2, 5000, 'the sum');
    assert.deepEqual(said[1], [3, false]);
    line.hit();
    assert.equal(said.length, 2, 'within the interval after the sum: counted');
    line.flush();
    assert.deepEqual(said[2], [1, false]);
    line.flush();
    assert.equal(said.length, 3, 'nothing counted: nothing said');
    assert.equal(line.take(), 0);
  });
});

// ---------------------------------------------------------------- Admission, with sockets

interface Rig {
  port: number;
  admission: Admission;
  lines: { text: string; level: string }[];
  served: net.Socket[];
  /** Bytes each served stream delivered (index as in served). */
  servedBytes: Buffer[];
  /** Pretend this many client connections are open. */
  open: { n: number };
  close(): Promise<void>;
}

async function rig(over: Partial<AdmissionOptions> = {}): Promise<Rig> {
  const lines: Rig['lines'] = [];
  const served: net.Socket[] = [];
  const servedBytes: Buffer[] = [];
  const open = { n: 0 };
  const admission = new Admission({ maxConnections: 1, openConnections: () => open.n, status: (text, level) => lines.push({ text, level }), clientTls: null, clientKeylog: null, ...over });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    admission.admit(socket, (s) => {
      const i = served.push(s) - 1;
      servedBytes[i] = Buffer.alloc(0);
      open.n++;
      s.on('data', (d: Buffer) => (servedBytes[i] = Buffer.concat([servedBytes[i]!, d])));
      s.on('error', () => undefined);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    admission,
    lines,
    served,
    servedBytes,
    open,
    close: async () => {
      admission.close();
      for (const s of [...served, ...sockets]) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The startup of a raw client must end in an ErrorResponse and a close; its fields. */
async function refused(c: RawClient): Promise<Record<string, string>> {
  try {
    await c.startup({ user: 'u', database: 'd' });
    assert.fail('the startup got through');
  } catch (e) {
    assert.ok(e instanceof PgError, String(e));
    await c.waitClosed(5000);
    return e.fields;
  } finally {
    c.destroy();
  }
}

describe('Admission: --max-connections', () => {
  let contexts: ClientTlsContexts;
  before(async () => {
    contexts = new ClientTlsContexts({ kind: 'generated', certs: new GeneratedCertificates('ecdsa') });
    await contexts.prepare();
  });

  it('below the limit: served as is; at it: FATAL 53300 after the startup packet, logged once, then in sums', async () => {
    const r = await rig({ maxConnections: 2 });
    try {
      r.open.n = 1;
      const first = await RawClient.connect(r.port);
      await waitUntil(() => r.served.length === 1, 5000, 'the first client served');
      first.destroy();
      const f = await refused(await RawClient.connect(r.port));
      assert.deepEqual(f, { S: 'FATAL', V: 'FATAL', C: '53300', M: 'sorry, too many clients already', D: 'pgscope refused the connection: --max-connections 2 reached.' });
      assert.equal(r.lines.length, 1);
      assert.equal(r.lines[0]!.level, 'warn');
      assert.match(r.lines[0]!.text, /^--max-connections 2 reached \(2 client connections open\): refused a client from 127\.0\.0\.1:\d+ with FATAL 53300 "sorry, too many clients already", as PostgreSQL does past max_connections \(CancelRequests still pass\)$/);
      await refused(await RawClient.connect(r.port));
      await refused(await RawClient.connect(r.port));
      assert.equal(r.lines.length, 1, 'rate-limited');
      r.admission.close();
      assert.match(r.lines[1]!.text, /^--max-connections 2: refused 2 more clients in the last 5 s \(2 client connections open\)$/);
    } finally {
      await r.close();
    }
  });

  it('GSSENCRequest and SSLRequest answered N (--client-deny-ssl), then the refusal', async () => {
    const r = await rig();
    try {
      r.open.n = 1;
      const c = await RawClient.connect(r.port);
      c.send(fe.gssencRequest());
      assert.equal(await c.readByte(), 'N');
      c.send(fe.sslRequest());
      assert.equal(await c.readByte(), 'N');
      assert.equal((await refused(c))['C'], '53300');
    } finally {
      await r.close();
    }
  });

  it("SSLRequest answered 'S', the TLS handshake, then the refusal over TLS (as PostgreSQL)", async () => {
    const r = await rig({ clientTls: contexts });
    try {
      r.open.n = 1;
      const c = await RawClient.connect(r.port);
      c.send(fe.sslRequest());
      assert.equal(await c.readByte(), 'S');
      await c.startTls();
      assert.equal((await refused(c))['C'], '53300');
    } finally {
      await r.close();
    }
  });

  it('direct TLS (ALPN postgresql), then the refusal', async () => {
    const r = await rig({ clientTls: contexts });
    try {
      r.open.n = 1;
      const t = tls.connect({ host: '127.0.0.1', port: r.port, rejectUnauthorized: false, ALPNProtocols: ['postgresql'] });
      await new Promise<void>((res, rej) => {
        t.once('secureConnect', () => res());
        t.once('error', rej);
      });
      t.write(fe.startup({ user: 'u', database: 'd' }));
      let got = Buffer.alloc(0);
      t.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
      await new Promise((res) => t.once('close', res));
      assert.equal(String.fromCharCode(got[0]!), 'E');
      assert.equal(errorFields(got.subarray(5))['C'], '53300');
    } finally {
      await r.close();
    }
  });

  it('a CancelRequest is never refused: handed over with its bytes (plaintext and over TLS), and it does not count', async () => {
    const r = await rig({ clientTls: contexts });
    try {
      r.open.n = 1;
      const key = Buffer.from([1, 2, 3, 4]);
      const c = await RawClient.connect(r.port);
      c.send(fe.cancelRequest(77, key));
      await waitUntil(() => r.served.length === 1 && r.servedBytes[0]!.length === 16, 5000, 'the cancel served');
      assert.deepEqual(r.servedBytes[0], fe.cancelRequest(77, key));
      c.destroy();

      const t = await RawClient.connect(r.port);
      t.send(fe.sslRequest());
      assert.equal(await t.readByte(), 'S');
      await t.startTls();
      t.send(fe.cancelRequest(78, key));
      await waitUntil(() => r.served.length === 2 && r.servedBytes[1]!.length === 16, 5000, 'the TLS cancel served');
      assert.ok(r.served[1] instanceof tls.TLSSocket, 'served decrypted');
      assert.deepEqual(r.servedBytes[1], fe.cancelRequest(78, key));
      t.destroy();

      // watch(): a connection that sent a CancelRequest does not count, until it closes.
      const seen: ProxyEvent[] = [];
      const log = r.admission.watch((ev) => seen.push(ev));
      r.open.n = 3;
      assert.equal(r.admission.regularOpen(), 3);
      const cancel = fe.cancelRequest(77, key);
      log({ kind: 'codec', conn: 9, time: 0, label: 'client -> server', event: { kind: 'message', message: { frame: { offset: 0, size: 16, complete: true, bytes: cancel } as never, name: 'CancelRequest', sub: [], spans: [] } } });
      assert.equal(r.admission.regularOpen(), 2);
      log({ kind: 'connection', conn: 9, time: 0, phase: 'closed', reason: 'x', bytesFromClient: 16, bytesFromServer: 0 });
      assert.equal(r.admission.regularOpen(), 3);
      assert.equal(seen.length, 2, 'every event passed on');
    } finally {
      await r.close();
    }
  });

  it(`at most ${REFUSAL_HANDSHAKES} refusals wait for a startup packet; past that, the answer at once; a client idle for a second makes room`, async () => {
    let clock = 0;
    const r = await rig({ now: () => clock });
    const idle: RawClient[] = [];
    try {
      r.open.n = 1;
      for (let i = 0; i < REFUSAL_HANDSHAKES; i++) idle.push(await RawClient.connect(r.port));
      // The next one hears at once, without sending anything.
      const late = await RawClient.connect(r.port);
      const m = await late.readMessage(5000);
      assert.equal(m.type, 'E');
      assert.equal(errorFields(m.body)['C'], '53300');
      await late.waitClosed(5000);
      // A second later, the oldest idle one is closed for a newcomer, which is then waited for.
      clock += 1500;
      const patient = await RawClient.connect(r.port);
      await idle[0]!.waitClosed(5000);
      assert.equal((await refused(patient))['C'], '53300');
    } finally {
      for (const c of idle) c.destroy();
      await r.close();
    }
  });
});

describe('Admission: out of file descriptors', () => {
  it('refuses with FATAL 53300 and says EMFILE, the limit and the fix; takes clients again once descriptors free up', async () => {
    const t = table(30);
    const r = await rig({ maxConnections: null, descriptors: t.ops, limit: { soft: 300, hard: 300 } });
    try {
      const taken = t.fill();
      const f = await refused(await RawClient.connect(r.port));
      assert.deepEqual([f['S'], f['C'], f['M'], f['D']], ['FATAL', '53300', 'sorry, too many clients already', 'pgscope is out of file descriptors (EMFILE: its limit, ulimit -n, is 300).']);
      assert.equal(r.lines.length, 1);
      const line = r.lines[0]!;
      assert.equal(line.level, 'error');
      assert.match(line.text, /^out of file descriptors: EMFILE \(too many open files\): no descriptor left once a client was accepted; the limit is 300 descriptors \(ulimit -n; hard limit 300\); 0 client connections open\. New clients are refused with FATAL 53300 until descriptors free up/);
      assert.match(line.text, /Fix: start pgscope with a higher limit \(ulimit -n; the hard limit is also 300: raise it in \/etc\/security\/limits\.conf or the service's LimitNOFILE\), or keep it below the limit with --max-connections \d+ \(each client takes two descriptors: its own and its server's\)$/);
      assert.equal(r.served.length, 0);
      await refused(await RawClient.connect(r.port));
      assert.equal(r.lines.length, 1, 'rate-limited');

      for (const fd of taken) t.ops.close(fd);
      await waitUntil(() => r.lines.some((l) => /^file descriptors are free again/.test(l.text)), 5000, 'the recovery line');
      assert.match(r.lines.at(-1)!.text, /^file descriptors are free again after [\d.]+ s \(0 client connections open\): taking new clients again; 2 clients were refused meanwhile$/);
      const c = await RawClient.connect(r.port);
      await waitUntil(() => r.served.length === 1, 5000, 'a client served again');
      c.destroy();
    } finally {
      await r.close();
    }
  });

  it('accept() errors Node reports: logged, rate-limited; EMFILE gives a reserve descriptor back; other listener errors are not taken', () => {
    const t = table(50);
    const lines: string[] = [];
    const a = new Admission({ maxConnections: null, openConnections: () => 5, status: (text) => lines.push(text), clientTls: null, clientKeylog: null, descriptors: t.ops, limit: { soft: 1024, hard: 4096 } });
    try {
      const enobufs = Object.assign(new Error('accept ENOBUFS'), { code: 'ENOBUFS', syscall: 'accept' });
      assert.equal(a.acceptFailed(enobufs), true);
      assert.equal(a.acceptFailed(enobufs), true);
      assert.deepEqual(lines, ['cannot accept a new client: ENOBUFS (accept ENOBUFS); the listener keeps listening']);
      assert.equal(a.acceptFailed(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'listen' })), false);
      const held = t.open.size;
      assert.equal(a.acceptFailed(Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' })), true);
      assert.equal(t.open.size, held - 1, 'one reserve descriptor given back');
      assert.match(lines[1]!, /^out of file descriptors: accept\(\) failed: EMFILE \(accept EMFILE\); the limit is 1024 descriptors \(ulimit -n; hard limit 4096\); 5 client connections open\. .*Fix: start pgscope with a higher limit \(ulimit -n 4096, the hard limit\)/);
      a.close();
      assert.match(lines[2]!, /^accept\(\) failed 1 more time in the last 5 s \(last: ENOBUFS/);
    } finally {
      a.close();
    }
  });
});

