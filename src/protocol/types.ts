/**
 * Core types of the pure protocol codec. Nothing here touches sockets, TLS or files.
 *
 * Offsets: a Span's start/end are relative to the first byte of its message (the type
 * byte, or the length word of a startup-phase packet); add Frame.offset for the absolute
 * position in the direction's byte stream.
 */

import type { Direction } from './direction.js';
import type { ProtocolError } from './errors.js';

export type { Direction };

export type FrameKind =
  /** Startup phase: Int32 length, Int32 code, no type byte (StartupMessage, SSLRequest, …). */
  | 'startup'
  /** Normal phase: Byte1 type, Int32 length (counting itself, not the type byte). */
  | 'message'
  /** The single byte 'S'/'N'/'G' that answers SSLRequest or GSSENCRequest. */
  | 'answer'
  /** A TLS record seen where a startup packet was expected (direct TLS, PostgreSQL 17+). */
  | 'tls-record';

export interface Frame {
  direction: Direction;
  kind: FrameKind;
  /** Absolute offset of the frame's first byte in its direction's stream. */
  offset: number;
  /** The type byte as a one-character string, or null for startup packets and TLS records. */
  type: string | null;
  /** The wire length field as sent (counts itself; for TLS records, the record length). */
  length: number;
  /** Total bytes this frame occupies on the wire. */
  size: number;
  /**
   * A private copy of the frame's first bytes: the whole frame when it fits the framer's
   * retention limit, else a bounded prefix (see `complete`).
   */
  bytes: Buffer;
  /** True when `bytes` holds the whole frame. */
  complete: boolean;
}

/** One decoded field. Everything a renderer shows comes from spans. */
export interface Span {
  /** Field name, as the protocol documentation names it where it has a name. */
  name: string;
  /** Start, relative to the message's first byte. */
  start: number;
  /** End (exclusive), relative to the message's first byte. */
  end: number;
  /** Decoded value: number, bigint, string, boolean, null, or a small object. */
  value?: unknown;
  /** Human meaning, e.g. "idle" for ReadyForQuery status 'I'. */
  meaning?: string;
  /** Nested fields (a DataRow column, an ErrorResponse field, a replication payload). */
  children?: Span[];
  /**
   * unparsed: bytes the codec could not make sense of (see the message's error);
   * elided: bytes that exist on the wire but were not retained (huge message);
   */
  flag?: 'unparsed' | 'elided';
  /**
   * The value is a secret (password, MD5 hash; with a statement context, SQL or parameters
   * carrying a password): outputs redact it when asked to. Set while decoding.
   */
  secret?: boolean;
  /** Bytes of this span that were retained, when fewer than end - start (huge values). */
  retained?: number;
  /**
   * The value read as its PostgreSQL type (a DataRow column, a Bind parameter), set while
   * decoding from the statement context (statement-context.ts: RowDescription / Parse /
   * ParameterDescription / Bind), when the conversation types values.
   */
  typed?: TypedValue;
}

/** A column or parameter value decoded by its type (src/protocol/values). */
export interface TypedValue {
  /** Type name as PostgreSQL spells it: int4, text, timestamptz, int4[] … */
  type: string;
  /** JSON-friendly value: string, number, boolean, null, or an array of these (int8 and numeric as strings when not exact as numbers). */
  value: unknown;
  /** How a person reads it, e.g. 42, 'abc', 2024-01-02 03:04:05+00, {1,2,NULL}. */
  text: string;
}

export interface DecodedMessage {
  frame: Frame;
  /** Message name from the documentation, e.g. "ReadyForQuery". */
  name: string;
  /**
   * Names of payloads nested inside (CopyData → XLogData → Insert):
   * ['XLogData', 'Insert']. Empty when there is nothing nested.
   */
  sub: string[];
  spans: Span[];
  /** Set when the frame was malformed; the offending bytes are in an 'unparsed' span. */
  error?: ProtocolError;
}

/** What a Conversation or Framer reports as bytes arrive. */
export type CodecEvent =
  | {
      kind: 'message';
      message: DecodedMessage;
      /**
       * For a client's Query, Parse, Bind, Describe or Execute when the conversation follows
       * statements: the SQL it runs (a Query's whole string; else its prepared statement's),
       * as it was at this message. Absent otherwise.
       */
      sql?: string;
    }
  /** The header of a message larger than the retention limit: its body is still arriving. */
  | { kind: 'message-start'; direction: Direction; offset: number; type: string | null; length: number; size: number }
  /** A framing error: the stream cannot be resynchronised; later bytes come as 'unparsed'. */
  | { kind: 'error'; error: ProtocolError }
  /** Bytes after a framing error or after a TLS switch the codec was not told about. */
  | { kind: 'unparsed'; direction: Direction; offset: number; length: number; prefix: Buffer; reason: string };
