import type { DecodeContext } from './context.js';
import { ProtocolError } from './errors.js';
import { Reader, StopDecoding } from './reader.js';
import { gssencResponse, sslResponse } from './backend/encryption-response.js';
import { decoderFor, startupDecoderFor } from './registry.js';
import { tlsRecordDecoder } from './frontend/tls-client-hello.js';
import type { DecodedMessage, Frame, Span } from './types.js';
import { plural } from './values.js';

/** The length word's meaning: "5 bytes". */
const lengthMeaning = (n: number): string => plural(n, 'byte');

/**
 * Decode one frame into spans. Never throws: malformed input ends up as `error` plus an
 * 'unparsed' span over the bytes that could not be read.
 */
export function decodeFrame(frame: Frame, ctx: DecodeContext): DecodedMessage {
  const r: Reader = new Reader(frame, 'message');
  /** The type byte's span, once read. */
  let typeSpan: Span | undefined;
  let sub: string[] = [];
  let error: ProtocolError | undefined;
  try {
    switch (frame.kind) {
      case 'answer': {
        const gss = ctx.awaitingAnswer === 'gss' || (ctx.awaitingAnswer !== 'ssl' && frame.type === 'G');
        const dec = gss ? gssencResponse : sslResponse;
        r.messageName = dec.name;
        dec.decode(r, ctx);
        break;
      }
      case 'tls-record': {
        r.messageName = tlsRecordDecoder.name;
        sub = tlsRecordDecoder.decode(r, ctx) ?? [];
        break;
      }
      case 'startup': {
        r.messageName = 'startup packet';
        const code = frame.bytes.readInt32BE(4);
        const dec = startupDecoderFor(code);
        r.messageName = dec.name;
        r.int32('length', lengthMeaning);
        sub = dec.decode(r, ctx) ?? [];
        break;
      }
      case 'message': {
        const type = frame.type!;
        const dec = decoderFor(frame.direction, type);
        r.messageName = dec?.name ?? `unknown message ${JSON.stringify(type)}`;
        r.char('type', dec?.name ?? 'unknown message type');
        typeSpan = r.spans[r.spans.length - 1];
        r.int32('length', lengthMeaning);
        if (!dec) {
          r.fail('unknown-type', `a ${frame.direction === 'frontend' ? 'client' : 'server'} message type byte, got ${JSON.stringify(type)} (0x${type.charCodeAt(0).toString(16).padStart(2, '0')})`, 0);
        }
        sub = dec.decode(r, ctx) ?? [];
        break;
      }
    }
    if (r.pos < r.end) {
      r.fail('trailing-bytes', `${r.end - r.pos} byte(s) left after the last field`);
    }
  } catch (e) {
    if (e instanceof StopDecoding && e.reason === 'elided') {
      r.push({ name: 'not retained', start: r.pos, end: r.end, flag: 'elided', meaning: `${plural(r.end - r.pos, 'byte')} not kept for decoding (forwarded unchanged)` });
    } else {
      error =
        e instanceof StopDecoding && e.error
          ? e.error
          : new ProtocolError('internal', r.messageName, frame.direction, frame.offset + r.pos, `a decodable message (decoder failed: ${e instanceof Error ? e.message : String(e)})`);
      const start = Math.min(r.pos, frame.size);
      // Never report more retained bytes than exist: the span's range is what the wire had.
      if (start < frame.size) {
        r.push({ name: 'unparsed', start, end: frame.size, flag: 'unparsed', meaning: error.expected });
      }
    }
  }
  // A decoder may have named the message more precisely ('R' → AuthenticationSASL, 'p' →
  // SASLResponse): the type byte's meaning says the final name.
  if (typeSpan && typeSpan.meaning !== 'unknown message type') typeSpan.meaning = r.messageName;
  const msg: DecodedMessage = { frame, name: r.messageName, sub, spans: r.spans };
  if (error) msg.error = error;
  return msg;
}
