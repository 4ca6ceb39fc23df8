/**
 * Builders for the few messages pgscope itself sends (everything else is forwarded as it
 * arrived). Pure: bytes out.
 */
import { CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE } from './framer.js';

/** A normal-phase message: Byte1 type, Int32 length (counting itself), body. */
export function encodeMessage(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out.write(type, 0, 'latin1');
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** SSLRequest: Int32 8, Int32 80877103. */
export function encodeSslRequest(): Buffer {
  return startupCode(SSL_REQUEST_CODE);
}

/** GSSENCRequest: Int32 8, Int32 80877104. */
export function encodeGssEncRequest(): Buffer {
  return startupCode(GSSENC_REQUEST_CODE);
}

function startupCode(code: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(code, 4);
  return b;
}

/** CancelRequest: Int32 length, Int32 80877102, Int32 process ID, secret key (4 bytes in 3.0, up to 256 in 3.2). */
export function encodeCancelRequest(processId: number, key: Buffer): Buffer {
  const b = Buffer.allocUnsafe(12 + key.length);
  b.writeInt32BE(12 + key.length, 0);
  b.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  b.writeInt32BE(processId, 8);
  key.copy(b, 12);
  return b;
}

/** AuthenticationCleartextPassword ('R', Int32 3): what --override-auth asks the client for. */
export function encodeAuthenticationCleartextPassword(): Buffer {
  const code = Buffer.alloc(4);
  code.writeInt32BE(3);
  return encodeMessage('R', code);
}

/** PasswordMessage ('p'): String — the password (cleartext, or 'md5' + hex hash); bytes as given, then the zero byte. */
export function encodePasswordMessage(password: Buffer): Buffer {
  return encodeMessage('p', Buffer.concat([password, Buffer.from([0])]));
}

/**
 * SASLInitialResponse ('p'): String mechanism, Int32 length of the Initial Response, then
 * the Initial Response (the SCRAM client-first-message).
 */
export function encodeSaslInitialResponse(mechanism: string, initial: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(initial.length);
  return encodeMessage('p', Buffer.concat([Buffer.from(mechanism + '\0', 'latin1'), len, initial]));
}

/** SASLResponse ('p'): the mechanism's data (the SCRAM client-final-message). */
export function encodeSaslResponse(data: Buffer): Buffer {
  return encodeMessage('p', data);
}

export interface ErrorFields {
  /** S and V: ERROR, FATAL, PANIC (or a notice severity). */
  severity: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE';
  /** C: the SQLSTATE code, e.g. 08001 sqlclient_unable_to_establish_sqlconnection. */
  code: string;
  /** M: the primary message. */
  message: string;
  /** D: detail. */
  detail?: string;
  /** H: hint. */
  hint?: string;
}

/** ErrorResponse ('E') or NoticeResponse ('N'): fields of Byte1 code + String, ended by a zero byte. */
export function encodeErrorResponse(f: ErrorFields, type: 'E' | 'N' = 'E'): Buffer {
  const parts: Buffer[] = [];
  const field = (code: string, value: string | undefined): void => {
    if (value === undefined) return;
    // A String may not contain a zero byte: drop any, rather than cut the message short.
    parts.push(Buffer.from(code + value.replace(/\0/g, '') + '\0', 'utf8'));
  };
  field('S', f.severity);
  field('V', f.severity);
  field('C', f.code);
  field('M', f.message);
  field('D', f.detail);
  field('H', f.hint);
  parts.push(Buffer.from([0]));
  return encodeMessage(type, Buffer.concat(parts));
}
