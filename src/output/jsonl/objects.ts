/**
 * The objects of JSON lines (docs/jsonl.md), as TypeScript types: what `--jsonl` writes
 * one per line, and what startProxy()'s listeners receive. One form for both.
 */
import type { SecurityVerdict, StatementRecord } from '../../analysis/records.js';
import type { Label, TlsInfo } from '../../session/events.js';

/** Members every object starts with. */
export interface JsonlHead<T extends string> {
  /** Schema version (JSONL_VERSION). */
  v: 1;
  type: T;
  /** The connection (#N in the text log); null only on status and dropped lines about no connection. */
  conn: number | null;
  /** ISO-8601 UTC with microseconds. */
  time: string;
  /** The same instant, in microseconds since the epoch. */
  ts: number;
}

/** Who sent a message and who received it ("script" is pgscope itself). */
export interface JsonlSides {
  label: Label;
  from: 'client' | 'server' | 'script';
  to: 'client' | 'server' | 'script';
  dir: 'frontend' | 'backend';
}

/** A byte string: printable UTF-8 as text, else hex; `truncated` when cut at the limit. */
export type JsonlBytes = { text: string; length: number; truncated?: true } | { hex: string; length: number; truncated?: true };

/** One decoded field of a message. */
export interface JsonlField {
  name: string;
  /** From the message's first byte. */
  offset: number;
  length: number;
  /** JSON-safe: 64-bit integers as decimal strings, byte strings as JsonlBytes. */
  value?: unknown;
  meaning?: string;
  /** A column or parameter read as its PostgreSQL type. */
  typed?: { type: string; value: unknown; text: string; truncated?: true };
  flag?: 'unparsed' | 'elided';
  secret?: true;
  retained?: number;
  children?: JsonlField[];
}

export interface JsonlMessage extends JsonlHead<'message'>, JsonlSides {
  kind: 'message' | 'startup' | 'answer' | 'tls-record';
  offset: number;
  msg: string;
  sub: string[];
  typeByte: string | null;
  length: number;
  size: number;
  fields: JsonlField[];
  raw?: string;
  rawTruncated?: true;
  redacted?: true;
  error?: { code: string; message: string; direction: string; offset: number; expected: string; text: string };
}

export interface JsonlCodecError extends JsonlHead<'codec-error'>, JsonlSides {
  offset: number;
  error: { code: string; message: string; direction: string; offset: number; expected: string; text: string };
}

export interface JsonlUnparsed extends JsonlHead<'unparsed'>, JsonlSides {
  offset: number;
  length: number;
  reason: string;
  prefix?: JsonlBytes;
  redacted?: true;
}

export interface JsonlStatus extends JsonlHead<'status'> {
  level: 'info' | 'warn' | 'error' | 'debug';
  text: string;
}

type Endpoint = { address: string; port: number };

export type JsonlConnection = JsonlHead<'connection'> &
  (
    | { phase: 'opened'; client: Endpoint; local: Endpoint }
    | { phase: 'client-tls'; tls: TlsInfo; direct: boolean }
    | { phase: 'server-connected'; host: string; port: number; why: string; remote: Endpoint; local: Endpoint }
    | { phase: 'server-tls'; tls: TlsInfo }
    | { phase: 'closed'; reason: string; bytesFromClient: number; bytesFromServer: number }
  );

export type JsonlSecurity = JsonlHead<'security'> & SecurityVerdict;

/** A completed statement: the record's members, `start` as ISO text and `startTs` in microseconds. */
export type JsonlStatement = JsonlHead<'statement'> & Omit<StatementRecord, 'conn' | 'start'> & { start: string; startTs: number };

export interface JsonlDropped extends JsonlHead<'dropped'> {
  lines: number;
  output: string;
  text: string;
}

/** Any JSON-lines object. */
export type JsonlObject = JsonlMessage | JsonlCodecError | JsonlUnparsed | JsonlStatus | JsonlConnection | JsonlSecurity | JsonlStatement | JsonlDropped;
