/**
 * The secrets of NSS key-log files (`--keylog FILE`): what libpq 18 writes for its
 * `sslkeylogfile` parameter, what pgscope writes for --client-sslkeylogfile and
 * --server-sslkeylogfile, what any program honouring SSLKEYLOGFILE writes. One
 * `LABEL <client random, hex> <secret, hex>` per line: CLIENT_RANDOM (TLS 1.2's master
 * secret), CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET and CLIENT_/SERVER_TRAFFIC_SECRET_0
 * (TLS 1.3). Secrets are found by the ClientHello's random. A file still being written
 * (pgscope sniff while clients connect) is read again when a random is not found in it.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type KeyLabel =
  | 'CLIENT_RANDOM'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0';

const LABELS: ReadonlySet<string> = new Set<KeyLabel>(['CLIENT_RANDOM', 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']);

/** A key log that cannot be read at all. */
export class KeyLogError extends Error {
  override readonly name = 'KeyLogError';
}

interface Source {
  path: string;
  /** Bytes of the file already read (only whole lines). */
  read: number;
  /** Lines that were neither a secret, a comment nor blank. */
  bad: number;
  firstBad: number | null;
  lines: number;
}

export class KeyLog {
  private readonly byRandom = new Map<string, Map<KeyLabel, Buffer>>();
  private readonly sources: Source[] = [];

  /** Read a key-log file now (throws KeyLogError when it cannot be opened or is not a file). */
  add(path: string): void {
    const s: Source = { path, read: 0, bad: 0, firstBad: null, lines: 0 };
    this.sources.push(s);
    this.readMore(s, true);
  }

  get files(): readonly string[] {
    return this.sources.map((s) => s.path);
  }

  /** How many client randoms have secrets. */
  get size(): number {
    return this.byRandom.size;
  }

  /** The secrets for this ClientHello random; the files are read again (what was added) when it is not there yet. */
  secrets(clientRandom: Buffer): ReadonlyMap<KeyLabel, Buffer> | null {
    const key = clientRandom.toString('hex');
    let found = this.byRandom.get(key);
    if (!found) {
      for (const s of this.sources) this.readMore(s, false);
      found = this.byRandom.get(key);
    }
    return found ?? null;
  }

  /** What a reader should know about the files: lines that were not understood. */
  problems(): string[] {
    return this.sources.filter((s) => s.bad > 0).map((s) => `${s.path}: ${s.bad} of ${s.lines} lines are not key-log lines (LABEL <client random> <secret>; the first is line ${s.firstBad})`);
  }

  private readMore(s: Source, first: boolean): void {
    let fd: number;
    try {
      // Never follow a symbolic link planted where a key log was expected.
      fd = openSync(s.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      if (!first) return;
      const code = (e as NodeJS.ErrnoException).code;
      throw new KeyLogError(`--keylog ${s.path}: ${code === 'ELOOP' ? 'is a symbolic link (not followed)' : (e as Error).message}`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() && !st.isFIFO()) {
        if (first) throw new KeyLogError(`--keylog ${s.path}: not a regular file`);
        return;
      }
      if (st.isFile() && st.size <= s.read) return;
      const chunks: Buffer[] = [];
      const buf = Buffer.allocUnsafe(64 * 1024);
      let at = s.read;
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, st.isFile() ? at : null);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
        at += n;
      }
      const text = Buffer.concat(chunks).toString('latin1');
      // Only whole lines: a line still being written is read next time.
      const end = text.lastIndexOf('\n') + 1;
      s.read += end;
      for (const line of text.slice(0, end).split('\n')) this.line(s, line);
    } finally {
      closeSync(fd);
    }
  }

  private line(s: Source, raw: string): void {
    const line = raw.trim();
    if (line === '') return;
    s.lines++;
    if (line.startsWith('#')) return;
    const [label, random, secret, extra] = line.split(/\s+/);
    if (label === undefined || random === undefined || secret === undefined || extra !== undefined || !/^[0-9a-fA-F]{64}$/.test(random) || !/^([0-9a-fA-F]{2}){16,}$/.test(secret)) {
      s.bad++;
      s.firstBad ??= s.lines;
      return;
    }
    // Other labels (EXPORTER_SECRET, EARLY_TRAFFIC_SECRET, …) are valid lines pgscope has no use for.
    if (!LABELS.has(label)) return;
    const key = random.toLowerCase();
    let m = this.byRandom.get(key);
    if (!m) this.byRandom.set(key, (m = new Map()));
    m.set(label as KeyLabel, Buffer.from(secret, 'hex'));
  }
}
