/**
 * Builders for replication payloads in tests: CopyData wrappers, LSNs and timestamps.
 * Field layouts follow the PostgreSQL 18 "Streaming Replication Protocol" and "Logical
 * Replication Message Formats" pages.
 */
import assert from 'node:assert/strict';
import { annotatedText } from '../../../src/output/annotated.js';
import type { DecodeContext, PgoutputOptions, ReplicationState } from '../../../src/protocol/context.js';
import type { DecodedMessage, Direction, Span } from '../../../src/protocol/types.js';
import { decodeOne } from '../../helpers/decode.js';
import { bytes, cstr, int16, int32, int64, int8, msg, uint32, type Part } from '../../helpers/wire.js';

export { cstr, int16, int32, int64, int8, uint32 };

/** An LSN written as X/X (pg_lsn) → Int64 bytes. */
export function lsn(text: string): Buffer {
  const [hi, lo] = text.split('/');
  return int64((BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`));
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** An ISO time with microseconds (…T12:34:56.123456Z) → Int64 µs since 2000-01-01. */
export function ts(iso: string): Buffer {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (!m) throw new Error(`bad ISO time ${iso}`);
  const ms = Date.parse(`${m[1]}Z`) - PG_EPOCH_MS;
  const micro = BigInt((m[2] ?? '').padEnd(6, '0'));
  return int64(BigInt(ms) * 1000n + micro);
}

/** A CopyData message carrying a replication payload. */
export function copyData(...payload: Part[]): Buffer {
  return msg('d', ...payload);
}

export const T1 = '2024-05-01T12:00:00.123456Z';
export const T2 = '2024-05-01T12:00:01.000001Z';

/** XLogData around a payload (pgoutput message, WAL bytes, plugin text). */
export function xlog(data: Part[], start = '0/16B3748', end = '0/16B3790', time = T1): Buffer {
  return copyData('w', lsn(start), lsn(end), ts(time), ...data);
}

export function pgoutputOptions(o: Partial<PgoutputOptions> = {}): PgoutputOptions {
  return { protoVersion: 1, streaming: 'off', twoPhase: false, messages: false, binary: false, ...o };
}

export function logical(o: Partial<PgoutputOptions> = {}, inStream = false): ReplicationState {
  return { kind: 'logical', pgoutput: pgoutputOptions(o), inStream };
}

export const PHYSICAL: ReplicationState = { kind: 'physical', pgoutput: null, inStream: false };
export const TEST_DECODING: ReplicationState = { kind: 'logical', pgoutput: null, inStream: false };

/** The context decodeOne needs to read CopyData as a replication message. */
export function ctxFor(state: ReplicationState): Partial<DecodeContext> {
  return { replication: state, copy: 'both' };
}


/** Decode a CopyData message in a replication state and compare its annotated text. */
export function golden(dir: Direction, wire: Buffer, state: ReplicationState, expected: string): DecodedMessage {
  const m = decodeOne(dir, wire, ctxFor(state));
  const text = annotatedText(m);
  assert.equal(text, expected);
  return m;
}

/** Every span, depth first. */
export function allSpans(spans: Span[]): Span[] {
  return spans.flatMap((s) => [s, ...allSpans(s.children ?? [])]);
}

/** The value of the first span (at any depth) with this name. */
export function valueAt(m: DecodedMessage, name: string): unknown {
  return allSpans(m.spans).find((s) => s.name === name)?.value;
}

/** The values of every span (at any depth) with this name. */
export function valuesAt(m: DecodedMessage, name: string): unknown[] {
  return allSpans(m.spans)
    .filter((s) => s.name === name)
    .map((s) => s.value);
}
