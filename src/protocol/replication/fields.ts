/**
 * Field readers shared by the replication decoders: WAL locations, timestamps, transaction
 * ids and flag bytes, each recorded as one span through the Reader.
 */
import type { ReplicationState } from '../context.js';
import type { Reader } from '../reader.js';
import { maybeSpan } from '../spans.js';
import type { DecodedMessage, Span } from '../types.js';

/** XLogData's last field: the WAL data (with pgoutput, a group of the pgoutput message's spans). */
export const WAL_DATA = 'WAL data';

/** The spans of the pgoutput message inside an XLogData (its WAL data group's children), if decoded so. */
export function pgoutputSpans(m: DecodedMessage): Span[] | undefined {
  return maybeSpan(m.spans, WAL_DATA)?.children;
}

/** A WAL location (Int64, "XLogRecPtr"), shown as `label: X/X`. 0/0 is InvalidXLogRecPtr. */
export function lsnField(r: Reader, name: string, label: string = name): string {
  return r.lsn(name, (v) => `${label}: ${v}${v === '0/0' ? ' (invalid)' : ''}`);
}

/**
 * A timestamp (Int64, "TimestampTz": microseconds since 2000-01-01 UTC), read with
 * r.timestamp (value: the ISO time) and annotated as `label: <ISO time>`.
 */
export function timeField(r: Reader, name: string, label: string = name): string {
  return r.timestamp(name, (v) => `${label}: ${v}`);
}

/** An Int32 transaction id (unsigned on the wire), shown as `name: n`. */
export function xidField(r: Reader, name = 'xid'): number {
  return r.uint32(name, (v) => `${name}: ${v}${v === 0 ? ' (invalid)' : ''}`);
}

/**
 * "Int32 (TransactionId) Xid of the transaction (only present for streamed transactions).
 * This field is available since protocol version 2." Read between Stream Start and
 * Stream Stop.
 */
export function streamedXid(r: Reader, state: ReplicationState): number | undefined {
  if (!state.inStream || !state.pgoutput || state.pgoutput.protoVersion < 2) return undefined;
  return xidField(r);
}

/** "Int8(0) Flags; currently unused." Anything but 0 is not a documented value. */
export function unusedFlags(r: Reader, what: string): void {
  const f = r.uint8('flags', (v) => (v === 0 ? 'flags: 0 (currently unused)' : `flags: ${v} (undocumented)`));
  if (f !== 0) r.fail('bad-value', `${what} flags: 0 (currently unused), got ${f}`, r.pos - 1);
}

/** A Byte1 that is 1 or 0 (reply requested, first segment), checked. */
export function booleanByte(r: Reader, name: string, yes: string, no: string): boolean {
  const v = r.uint8(name, (b) => (b === 1 ? yes : b === 0 ? no : `${name}: ${b} (neither 0 nor 1)`));
  if (v !== 0 && v !== 1) r.fail('bad-value', `${name}: 0 or 1, got ${v}`, r.pos - 1);
  return v === 1;
}
