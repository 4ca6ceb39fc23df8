/**
 * A loopback TCP pass-through that records every chunk in the order it arrived and
 * forwards it unchanged: point a client at `tap.port` and it talks to the real server at
 * host:port, while the test keeps both directions' bytes for the codec.
 */
import { createServer, Socket, type Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Direction } from '../../src/protocol/types.js';

export interface TapChunk {
  /** frontend = client → server, backend = server → client. */
  dir: Direction;
  /** A private copy of the bytes as they arrived (one socket read). */
  bytes: Buffer;
  /** Milliseconds since the tap started. */
  t: number;
  /** Which accepted connection (0, 1, …) the chunk belongs to. */
  conn: number;
}

export interface TapConnection {
  id: number;
  /** This connection's chunks, in arrival order. */
  chunks: TapChunk[];
  /** Resolves once both sides of this connection are closed. */
  closed: Promise<void>;
}

export interface Tap {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Every chunk of every connection in arrival order (see `conn`). */
  readonly chunks: TapChunk[];
  readonly connections: TapConnection[];
  /** Chunks of one connection (default: the first) as {dir, bytes} for Conversation replay. */
  conversation(conn?: number): { dir: Direction; bytes: Buffer }[];
  /** Resolves when every connection accepted so far has closed on both sides. */
  idle(timeoutMs?: number): Promise<void>;
  /** Forget recorded chunks (keeps connections open). */
  clear(): void;
  /** Destroy all sockets and close the listener. */
  close(): Promise<void>;
}

export interface TapOptions {
  host: string;
  port: number;
  /** Port to listen on (default: a free one). The tap always listens on 127.0.0.1. */
  listenPort?: number;
}

export function startTap(target: TapOptions): Promise<Tap> {
  const start = performance.now();
  const chunks: TapChunk[] = [];
  const connections: TapConnection[] = [];
  const sockets = new Set<Socket>();
  const pending = new Set<Promise<void>>();

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const id = connections.length;
    const upstream = new Socket({ allowHalfOpen: true });
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    const mine: TapChunk[] = [];
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const conn: TapConnection = { id, chunks: mine, closed };
    connections.push(conn);
    pending.add(closed);

    let open = 2;
    const oneClosed = (s: Socket): void => {
      sockets.delete(s);
      if (--open === 0) {
        pending.delete(closed);
        resolveClosed();
      }
    };
    client.on('close', () => {
      oneClosed(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      oneClosed(upstream);
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());

    const record = (dir: Direction, b: Buffer): void => {
      const c: TapChunk = { dir, bytes: Buffer.from(b), t: performance.now() - start, conn: id };
      chunks.push(c);
      mine.push(c);
    };
    // Hold the client's bytes until the upstream connection exists.
    client.pause();
    client.on('data', (b: Buffer) => {
      record('frontend', b);
      if (!upstream.write(b)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    upstream.on('data', (b: Buffer) => {
      record('backend', b);
      if (!client.write(b)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    upstream.connect(target.port, target.host, () => client.resume());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target.listenPort ?? 0, '127.0.0.1', () => {
      const addr = server.address();
      if (!addr || typeof addr === 'string') {
        reject(new Error('tap: no address'));
        return;
      }
      const tap: Tap = {
        host: '127.0.0.1',
        port: addr.port,
        chunks,
        connections,
        conversation(conn = 0) {
          const c = connections[conn];
          if (!c) throw new Error(`tap: no connection ${conn} (saw ${connections.length})`);
          return c.chunks.map((x) => ({ dir: x.dir, bytes: x.bytes }));
        },
        async idle(timeoutMs = 10_000) {
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, rej) => {
            timer = setTimeout(() => rej(new Error(`tap: ${pending.size} connection(s) still open after ${timeoutMs} ms`)), timeoutMs);
          });
          try {
            while (pending.size) await Promise.race([Promise.all([...pending]), timeout]);
          } finally {
            clearTimeout(timer);
          }
        },
        clear() {
          chunks.length = 0;
          for (const c of connections) c.chunks.length = 0;
        },
        close() {
          for (const s of sockets) s.destroy();
          return new Promise<void>((res) => server.close(() => res()));
        },
      };
      resolve(tap);
    });
  });
}
