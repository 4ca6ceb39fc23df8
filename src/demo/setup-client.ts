/**
 * Just enough of a PostgreSQL client to set up the demo server: connect over its Unix socket
 * (trust authentication, a folder only the server's user and root can enter), run simple
 * queries one after the other, hang up. Deliberately independent of the proxy's codec: it
 * only has to understand AuthenticationOk, ErrorResponse and ReadyForQuery.
 */
import net from 'node:net';

/** An ErrorResponse from the server (or a broken exchange: code ''). */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** SQLSTATE 57P03 cannot_connect_now: "the database system is starting up". */
export const CANNOT_CONNECT_NOW = '57P03';

function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

function startupMessage(user: string, database: string): Buffer {
  const body = Buffer.concat([cstr('user'), cstr(user), cstr('database'), cstr(database), cstr('application_name'), cstr('pgscope --demo setup'), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(3 << 16, 4); // protocol 3.0
  return Buffer.concat([head, body]);
}

function typed(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** The S/C/M fields of an ErrorResponse body. */
function errorFields(body: Buffer): { code: string; message: string; severity: string } {
  const f: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const key = String.fromCharCode(body[at]!);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    f[key] = body.toString('utf8', at + 1, end);
    at = end + 1;
  }
  return { code: f['C'] ?? '', message: f['M'] ?? 'unknown error', severity: f['V'] ?? f['S'] ?? 'ERROR' };
}

/**
 * Connect to the server's Unix socket `socketPath` as `user` to `database` and run each of
 * `queries` as one simple Query (stopping at the first error). Rejects with ServerError for
 * an ErrorResponse, or with the socket error (ENOENT, ECONNREFUSED, …).
 */
export function runQueries(socketPath: string, user: string, database: string, queries: readonly string[], timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: socketPath });
    let buf: Buffer = Buffer.alloc(0);
    let next = 0;
    let failed: ServerError | null = null;
    let settled = false;
    const finish = (e: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (e) reject(e);
      else resolve();
    };
    const timer = setTimeout(() => finish(new ServerError('', `no answer from the server within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (e) => finish(e));
    socket.once('close', () => finish(failed ?? new ServerError('', 'the server closed the connection')));
    socket.once('connect', () => socket.write(startupMessage(user, database)));
    socket.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 5) {
        const len = buf.readInt32BE(1);
        if (len < 4) return finish(new ServerError('', 'malformed message from the server'));
        if (buf.length < 1 + len) break;
        const type = String.fromCharCode(buf[0]!);
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        switch (type) {
          case 'R':
            if (body.readInt32BE(0) !== 0) return finish(new ServerError('', `the server asked for a password (authentication request ${body.readInt32BE(0)}) on its setup socket`));
            break;
          case 'E': {
            const e = errorFields(body);
            failed = new ServerError(e.code, `${e.severity}: ${e.message}${e.code ? ` (SQLSTATE ${e.code})` : ''}`);
            // Before ReadyForQuery (startup) the server closes the connection; afterwards it sends 'Z'.
            break;
          }
          case 'Z':
            if (failed) return finish(failed);
            if (next < queries.length) socket.write(typed('Q', cstr(queries[next++]!)));
            else {
              socket.end(typed('X', Buffer.alloc(0)));
              return finish(null);
            }
            break;
          default:
            break; // ParameterStatus, BackendKeyData, notices, results: not needed here
        }
      }
    });
  });
}
