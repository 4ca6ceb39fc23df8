/**
 * Just enough of a PostgreSQL client to set up the demo server: connect over its Unix socket
 * (trust authentication, a folder only the server's user and root can enter), run simple
 * queries one after the other, hang up. It writes its messages with the codec's encoders
 * and reads the server's with the codec; it only has to understand AuthenticationOk,
 * ErrorResponse and ReadyForQuery.
 */
import net from 'node:net';
import { authenticationCode } from '../protocol/backend/authentication.js';
import { Conversation } from '../protocol/conversation.js';
import { query } from '../protocol/frontend/query.js';
import { startupMessage } from '../protocol/frontend/startup-message.js';
import { terminate } from '../protocol/frontend/terminate.js';
import { errorFields } from '../protocol/inspect.js';
import type { DecodedMessage } from '../protocol/types.js';

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

function startup(user: string, database: string): Buffer {
  return startupMessage.encode({
    protocol: { major: 3, minor: 0 },
    params: [
      ['user', user],
      ['database', database],
      ['application_name', 'pgscope --demo setup'],
    ],
  });
}

/** The S/C/M fields of an ErrorResponse. */
function describeError(m: DecodedMessage): { code: string; message: string; severity: string } {
  const f = errorFields(m);
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
    // The server's half of the conversation (the startup packet is written, not decoded).
    const conv = new Conversation({ frontendMode: 'normal' });
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
    socket.once('connect', () => socket.write(startup(user, database)));
    socket.on('data', (d: Buffer) => {
      for (const ev of conv.push('backend', d)) {
        if (settled) return;
        if (ev.kind === 'error' || ev.kind === 'unparsed') return finish(new ServerError('', 'malformed message from the server'));
        if (ev.kind !== 'message') continue;
        const m = ev.message;
        switch (m.frame.type) {
          case 'R': {
            const code = authenticationCode(m);
            if (code !== 0) return finish(new ServerError('', `the server asked for a password (authentication request ${code}) on its setup socket`));
            break;
          }
          case 'E': {
            const e = describeError(m);
            failed = new ServerError(e.code, `${e.severity}: ${e.message}${e.code ? ` (SQLSTATE ${e.code})` : ''}`);
            // Before ReadyForQuery (startup) the server closes the connection; afterwards it sends 'Z'.
            break;
          }
          case 'Z':
            if (failed) return finish(failed);
            if (next < queries.length) {
              let q: Buffer;
              try {
                q = query.encode({ query: queries[next++]! });
              } catch (e) {
                return finish(e as Error); // a zero byte in the SQL: no Query can carry it
              }
              socket.write(q);
            } else {
              socket.end(terminate.encode({}));
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
