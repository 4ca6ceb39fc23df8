/**
 * Builders for the messages pgscope itself sends, kept under their old names: each is a
 * thin wrapper over its message module's codec (`encode(fields)`), which is where the
 * wire format lives. New code can call the codecs directly. Pure: bytes out.
 */
import { authentication } from './backend/authentication.js';
import { errorResponse } from './backend/error-response.js';
import type { ErrorNoticeField } from './backend/error-fields.js';
import { noticeResponse } from './backend/notice-response.js';
import { cancelRequest } from './frontend/cancel-request.js';
import { gssencRequest } from './frontend/gssenc-request.js';
import { passwordMessage } from './frontend/password-message.js';
import { saslInitialResponse } from './frontend/sasl-initial-response.js';
import { saslResponse } from './frontend/sasl-response.js';
import { sslRequest } from './frontend/ssl-request.js';
import { writeMessage } from './writer.js';

/** A normal-phase message: Byte1 type, Int32 length (counting itself), body. */
export function encodeMessage(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  return writeMessage(type, `message ${JSON.stringify(type)}`, (w) => w.bytes(body, 'body'), 5 + body.length);
}

/** SSLRequest: Int32 8, Int32 80877103. */
export function encodeSslRequest(): Buffer {
  return sslRequest.encode({});
}

/** GSSENCRequest: Int32 8, Int32 80877104. */
export function encodeGssEncRequest(): Buffer {
  return gssencRequest.encode({});
}

/** CancelRequest: Int32 length, Int32 80877102, Int32 process ID, secret key (4 bytes in 3.0, up to 256 in 3.2). */
export function encodeCancelRequest(processId: number, key: Buffer): Buffer {
  return cancelRequest.encode({ processId, secretKey: key });
}

/** AuthenticationCleartextPassword ('R', Int32 3): what --override-auth asks the client for. */
export function encodeAuthenticationCleartextPassword(): Buffer {
  return authentication.encode({ code: 3 });
}

/** PasswordMessage ('p'): String — the password (cleartext, or 'md5' + hex hash); bytes as given, then the zero byte. */
export function encodePasswordMessage(password: Buffer): Buffer {
  return passwordMessage.encode({ password });
}

/**
 * SASLInitialResponse ('p'): String mechanism, Int32 length of the Initial Response, then
 * the Initial Response (the SCRAM client-first-message).
 */
export function encodeSaslInitialResponse(mechanism: string, initial: Buffer): Buffer {
  return saslInitialResponse.encode({ mechanism, initialResponse: initial });
}

/** SASLResponse ('p'): the mechanism's data (the SCRAM client-final-message). */
export function encodeSaslResponse(data: Buffer): Buffer {
  return saslResponse.encode({ data });
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

/**
 * The fields of an ErrorResponse or NoticeResponse pgscope writes itself: S and V
 * (severity), C, M, then D and H when given. A String may not contain a zero byte: any is
 * dropped, rather than cut the message short.
 */
export function errorNoticeFieldsOf(f: ErrorFields): ErrorNoticeField[] {
  const out: ErrorNoticeField[] = [];
  const field = (type: string, value: string | undefined): void => {
    if (value !== undefined) out.push({ type, value: value.replace(/\0/g, '') });
  };
  field('S', f.severity);
  field('V', f.severity);
  field('C', f.code);
  field('M', f.message);
  field('D', f.detail);
  field('H', f.hint);
  return out;
}

/** ErrorResponse ('E') or NoticeResponse ('N'): fields of Byte1 code + String, ended by a zero byte. */
export function encodeErrorResponse(f: ErrorFields, type: 'E' | 'N' = 'E'): Buffer {
  return (type === 'E' ? errorResponse : noticeResponse).encode({ fields: errorNoticeFieldsOf(f) });
}
