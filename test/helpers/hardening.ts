/**
 * Helpers for the hardening tests (test/e2e/hardening-*.test.ts, test/stress/*): a seeded
 * PRNG (so a fuzz failure names a seed and a case that reproduce it), process figures
 * from /proc (open descriptors, resident memory), a raw "send these bytes and see what
 * happens" client over TCP or TLS, and counts of server backends.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { PgServer } from './pg-server.js';

// ---------------------------------------------------------------- PRNG

/** mulberry32: small, fast, good enough for fuzzing; the same seed gives the same stream. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A uint32. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** A per-case seed derived from the run's seed and the case number. */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------- /proc

/** Number of open file descriptors of a live process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Current resident memory of a live process in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** CPU time (user + system) a live process has used so far, in seconds (/proc/PID/stat). */
export function cpuSeconds(pid: number): number {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** True while the process exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(st);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- raw probes

export type CloseMode = 'end' | 'wait-end' | 'destroy' | 'wait-destroy';

export interface ProbeOptions {
  port: number;
  host?: string;
  /** Chunks written in order (each its own write). */
  chunks: Buffer[];
  /**
   * After writing: 'end' half-closes at once; 'wait-end' waits up to waitMs for pgscope
   * to close, then half-closes; 'destroy' resets at once; 'wait-destroy' waits, then resets.
   */
  close: CloseMode;
  waitMs?: number;
  /** How long pgscope may take to close after we ended our side (default 15 s). */
  closeTimeoutMs?: number;
  /** 'ssl': SSLRequest, expect 'S', TLS handshake, then the chunks inside TLS. 'direct': TLS at once with ALPN postgresql. */
  tls?: 'ssl' | 'direct';
  servername?: string;
}

export interface ProbeResult {
  /** Everything pgscope sent back (after the TLS handshake, when there was one). */
  received: Buffer;
  /** Our local port (matches pgscope's "connected from 127.0.0.1:PORT"). */
  localPort: number;
  /** pgscope closed the connection (true) or we gave up waiting (false). */
  closed: boolean;
  /** What went wrong on our side (TLS failure etc.), for diagnostics only. */
  error?: string;
  /** pgscope ended the connection (FIN or reset) before we ended or reset our side. */
  peerClosedFirst: boolean;
  /** The answer to SSLRequest, when tls = 'ssl'. */
  sslAnswer?: string;
}

/** Send bytes to pgscope as a client and report what came back and whether it closed. */
export function probe(o: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const host = o.host ?? '127.0.0.1';
    const raw = new Socket();
    let sock: Socket | TLSSocket = raw;
    const got: Buffer[] = [];
    let localPort = 0;
    let error: string | undefined;
    let sslAnswer: string | undefined;
    let finished = false;
    let weClosed = false;
    let peerClosedFirst = false;
    let closeTimer: NodeJS.Timeout | undefined;
    let waitTimer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(closeTimer);
      clearTimeout(waitTimer);
      raw.destroy();
      sock.destroy();
      const r: ProbeResult = { received: Buffer.concat(got), localPort, closed, peerClosedFirst };
      if (error !== undefined) r.error = error;
      if (sslAnswer !== undefined) r.sslAnswer = sslAnswer;
      resolve(r);
    };
    const armCloseTimer = (): void => {
      clearTimeout(closeTimer);
      closeTimer = setTimeout(() => finish(false), o.closeTimeoutMs ?? 15_000);
    };
    raw.on('end', () => {
      if (!weClosed) peerClosedFirst = true;
    });
    raw.on('close', () => {
      if (!weClosed) peerClosedFirst = true;
      finish(true);
    });
    raw.on('error', (e) => {
      if (!weClosed) peerClosedFirst = true;
      error ??= e.message;
    });
    // resetAndDestroy() on a socket that a TLSSocket wraps crashes Node 20 (SIGSEGV):
    // through TLS, a plain destroy() is the closest thing to a reset.
    const reset = (): void => {
      weClosed = true;
      if (sock === raw) raw.resetAndDestroy();
      else sock.destroy();
    };
    const afterWrite = (): void => {
      switch (o.close) {
        case 'end':
          weClosed = true;
          sock.end();
          armCloseTimer();
          break;
        case 'destroy':
          reset();
          finish(true);
          break;
        case 'wait-end':
        case 'wait-destroy':
          waitTimer = setTimeout(() => {
            if (finished) return;
            if (o.close === 'wait-end') {
              weClosed = true;
              sock.end();
              armCloseTimer();
            } else {
              reset();
              finish(true);
            }
          }, o.waitMs ?? 200);
          break;
      }
    };
    const writeAll = (): void => {
      for (const c of o.chunks) if (c.length) sock.write(c);
      afterWrite();
    };
    // A global guard: nothing may take longer than this whatever happens.
    armCloseTimer();
    raw.connect(o.port, host, () => {
      localPort = raw.localPort ?? 0;
      if (!o.tls) {
        raw.on('data', (d: Buffer) => got.push(d));
        writeAll();
        return;
      }
      const startTls = (): void => {
        const t = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: o.servername ?? 'localhost', ...(o.tls === 'direct' ? { ALPNProtocols: ['postgresql'] } : {}) });
        sock = t;
        t.on('data', (d: Buffer) => got.push(d));
        t.on('error', (e) => {
          error ??= `tls: ${e.message}`;
        });
        t.once('secureConnect', writeAll);
      };
      if (o.tls === 'direct') startTls();
      else {
        raw.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
        raw.once('data', (d: Buffer) => {
          sslAnswer = String.fromCharCode(d[0]!);
          if (sslAnswer === 'S' && d.length === 1) startTls();
          else {
            got.push(d);
            raw.on('data', (x: Buffer) => got.push(x));
            writeAll();
          }
        });
      }
    });
  });
}

/** The first ErrorResponse's fields in a byte stream (or null). */
export function firstError(b: Buffer): Record<string, string> | null {
  let i = 0;
  while (i + 5 <= b.length) {
    const type = String.fromCharCode(b[i]!);
    const len = b.readInt32BE(i + 1);
    if (len < 4 || i + 1 + len > b.length) return null;
    if (type === 'E') {
      const out: Record<string, string> = {};
      const body = b.subarray(i + 5, i + 1 + len);
      let k = 0;
      while (k < body.length && body[k] !== 0) {
        const end = body.indexOf(0, k + 1);
        if (end < 0) break;
        out[String.fromCharCode(body[k]!)] = body.subarray(k + 1, end).toString('utf8');
        k = end + 1;
      }
      return out;
    }
    i += 1 + len;
  }
  return null;
}

// ---------------------------------------------------------------- server side

/** Client backends and walsenders on the server other than the one asking. */
export async function otherBackends(server: PgServer, where = 'true'): Promise<number> {
  const r = await server.psqlRun(
    `SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('client backend', 'walsender') AND pid <> pg_backend_pid() AND (${where})`,
    [],
    { allowFailure: true, timeoutMs: 20_000 },
  );
  if (r.code !== 0) return -1;
  return Number(r.stdout.trim());
}

/** "#N" numbers by the client port they were connected from. */
export function connsByClientPort(log: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of log.matchAll(/^#(\d+) {2}connected from 127\.0\.0\.1:(\d+)/gm)) {
    const port = Number(m[2]);
    const list = out.get(port) ?? [];
    list.push(Number(m[1]));
    out.set(port, list);
  }
  return out;
}

/** All lines per connection number, in one pass over a (big) log. */
export function linesByConn(log: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const l of log.split('\n')) {
    const m = /^#(\d+) {2}/.exec(l);
    if (!m) continue;
    const n = Number(m[1]);
    let list = out.get(n);
    if (!list) out.set(n, (list = []));
    list.push(l);
  }
  return out;
}
