/**
 * What pgscope's own pcapng (--pcap, src/output/pcapng/pcapng-sink.ts) says in packet
 * comments, read back: the connection's number and real server on its SYN, why it closed
 * and the byte counts on its first FIN, and where blocks were dropped. A capture from
 * anywhere else has no such comments, and these return null.
 */
import type { Endpoint } from '../session/events.js';

export interface PgscopeOpening {
  conn: number;
  /** The real server (the file shows every server on port 5432), or null when there was none. */
  server: Endpoint | null;
  /** The client's real port, when the file shows another (5432, or a clash with another connection). */
  clientPort: number | null;
}

export interface PgscopeClosing {
  reason: string;
  /** As the proxy counted them (decrypted, the SSLRequest included), when the comment says. */
  bytes: { fromClient: number; fromServer: number } | null;
}

const OPENING = /^pgscope connection #(\d+): (?:server (?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d+)|no server)/;
const CLIENT_PORT = /; client port (\d+) shown as \d+ /;
const CLOSED = /^pgscope connection #\d+ closed: ([\s\S]*) \((\d+) bytes from the client, (\d+) from the server\)$/;
const STILL_OPEN = /^pgscope connection #\d+: (still open [\s\S]*)$/;

export function pgscopeOpening(comment: string | null): PgscopeOpening | null {
  const m = comment === null ? null : OPENING.exec(comment);
  if (!m) return null;
  const address = m[2] ?? m[3];
  const server = address !== undefined ? { address, port: Number(m[4]) } : null;
  const port = CLIENT_PORT.exec(comment!);
  return { conn: Number(m[1]), server, clientPort: port ? Number(port[1]) : null };
}

export function pgscopeClosing(comment: string | null): PgscopeClosing | null {
  if (comment === null) return null;
  const m = CLOSED.exec(comment);
  if (m) return { reason: m[1]!, bytes: { fromClient: Number(m[2]), fromServer: Number(m[3]) } };
  const open = STILL_OPEN.exec(comment);
  return open ? { reason: open[1]!, bytes: null } : null;
}

/** The empty packet pgscope writes where blocks were dropped because the file's reader fell behind. */
export function isPgscopeGapMarker(data: Buffer, comment: string | null): comment is string {
  return data.length === 0 && comment !== null && comment.startsWith('pgscope: ');
}
