import { backendDecoders } from './backend/index.js';
import { gssencResponse, sslResponse } from './backend/encryption-response.js';
import type { FieldCodec, MessageCodec, MessageDecoder } from './decoder.js';
import { FieldsError } from './errors.js';
import { authenticationResponseCodec } from './frontend/authentication-response.js';
import { frontendDecoders, startupDecoders, unknownStartupDecoder } from './frontend/index.js';
import { gssResponse } from './frontend/gss-response.js';
import { passwordMessage } from './frontend/password-message.js';
import { saslInitialResponse } from './frontend/sasl-initial-response.js';
import { saslResponse } from './frontend/sasl-response.js';
import { tlsRecordDecoder } from './frontend/tls-client-hello.js';
import type { ReplicationCodec } from './replication/codec.js';
import { replicationCodecOf, replicationCodecs } from './replication/index.js';
import type { PgoutputCodec } from './replication/pgoutput/decoder.js';
import { pgoutputDecoders } from './replication/pgoutput/index.js';
import type { DecodedMessage, Direction } from './types.js';

/** The decoder for a normal-phase type byte in one direction, or undefined if none exists. */
export function decoderFor(direction: Direction, type: string): MessageCodec | undefined {
  const table = direction === 'frontend' ? frontendDecoders : backendDecoders;
  return Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
}

/**
 * The decoder for a startup-phase packet, chosen by its Int32 code: SSLRequest (80877103),
 * GSSENCRequest (80877104), CancelRequest (80877102), or a protocol version (StartupMessage).
 */
export function startupDecoderFor(code: number): MessageDecoder {
  const byCode = startupDecoders[code];
  if (byCode) return byCode;
  if (code >>> 16 === 3) return startupDecoders['startup']!;
  return unknownStartupDecoder;
}

/**
 * The codec of a decoded message: the one whose fields(m) reads it and whose encode
 * writes it back. For a 'p' message, the codec the context chose (PasswordMessage,
 * SASLInitialResponse, SASLResponse, GSSResponse), else the generic one (its body as
 * bytes); for CopyData, the CopyData codec (its replication payload has its own:
 * replicationCodecOf, pgoutputCodecOf). Undefined for an unknown message type or an
 * unknown startup packet.
 */
export function codecOf(m: DecodedMessage): MessageCodec | undefined {
  const f = m.frame;
  switch (f.kind) {
    case 'message': {
      const codec = decoderFor(f.direction, f.type!);
      if (codec && f.direction === 'frontend' && f.type === 'p') return authenticationResponseCodec(m.name) ?? codec;
      return codec;
    }
    case 'startup': {
      if (f.bytes.length < 8) return undefined;
      const dec = startupDecoderFor(f.bytes.readInt32BE(4));
      return dec === unknownStartupDecoder ? undefined : (dec as MessageCodec);
    }
    case 'answer':
      return m.name === gssencResponse.name ? gssencResponse : sslResponse;
    case 'tls-record':
      return tlsRecordDecoder;
  }
}

export { replicationCodecOf };

/** The codec of the pgoutput message a CopyData's XLogData carries (DecodedMessage.sub[1]), if any. */
export function pgoutputCodecOf(m: DecodedMessage): PgoutputCodec | undefined {
  if (m.name !== 'CopyData' || m.sub[0] !== 'XLogData' || m.sub.length < 2) return undefined;
  return Object.values(pgoutputDecoders).find((c) => c.sub === m.sub[1]);
}

/**
 * A decoded message's bytes, written again from its typed fields: equal to its frame's
 * bytes for every whole, well-formed message. Throws a FieldsError for a message that
 * has no codec, was malformed or not retained whole (see MessageCodec.fields).
 */
export function encodeDecoded(m: DecodedMessage): Buffer {
  const codec = codecOf(m);
  if (!codec) throw new FieldsError('malformed', m.name, m.frame.offset, 'no codec reads this message (an unknown type or startup code)');
  return codec.encode(codec.fields(m));
}

/** fields(m), or null when the message cannot be given as fields (a FieldsError); other errors are thrown. */
export function tryFields<F>(codec: FieldCodec<F>, m: DecodedMessage): F | null {
  try {
    return codec.fields(m);
  } catch (e) {
    if (e instanceof FieldsError) return null;
    throw e;
  }
}

/**
 * Every codec: normal-phase messages of both directions (the four the 'p' type byte can
 * be, too), startup packets, the SSL/GSS answers, the direct-TLS record, and the
 * replication and pgoutput messages carried in CopyData.
 */
export function allCodecs(): FieldCodec<unknown>[] {
  const all = new Set<FieldCodec<unknown>>([
    ...Object.values(frontendDecoders),
    passwordMessage,
    saslInitialResponse,
    saslResponse,
    gssResponse,
    ...Object.values(backendDecoders),
    ...Object.values(startupDecoders),
    sslResponse,
    gssencResponse,
    tlsRecordDecoder,
    ...(replicationCodecs as readonly ReplicationCodec[]),
    ...Object.values(pgoutputDecoders),
  ]);
  return [...all];
}
