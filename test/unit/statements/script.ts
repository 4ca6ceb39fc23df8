/**
 * Hand-built conversations for the statement tracker: protocol messages built with
 * test/helpers/wire.ts, decoded by the real codec (a Conversation past its startup, which
 * types values as it decodes), fed to a tracker with increasing synthetic times (message i
 * at 1000 + i ms).
 */
import { Conversation } from '../../../src/protocol/conversation.js';
import { encodeErrorResponse } from '../../../src/protocol/encode.js';
import { StatementTracker, type DecodeValue } from '../../../src/analysis/statements/index.js';
import type { DecodedMessage, Direction, TypedValue } from '../../../src/protocol/types.js';
import type { StatementRecord } from '../../../src/session/events.js';
import { cstr, int16, int32, msg, uint32 } from '../../helpers/wire.js';

export type Step = [Direction, Buffer];
const F = (b: Buffer): Step => ['frontend', b];
const B = (b: Buffer): Step => ['backend', b];

const values = (vs: (string | Buffer | null)[]): Buffer[] =>
  vs.flatMap((v) => (v === null ? [int32(-1)] : [int32(Buffer.byteLength(v)), typeof v === 'string' ? Buffer.from(v) : v]));
const codes = (cs: number[]): Buffer[] => [int16(cs.length), ...cs.map(int16)];

export const query = (sql: string): Step => F(msg('Q', cstr(sql)));
export const parse = (name: string, sql: string, oids: number[] = []): Step => F(msg('P', cstr(name), cstr(sql), int16(oids.length), ...oids.map(uint32)));
export const bind = (portal: string, statement: string, params: (string | Buffer | null)[] = [], formats: number[] = [], results: number[] = []): Step =>
  F(msg('B', cstr(portal), cstr(statement), ...codes(formats), int16(params.length), ...values(params), ...codes(results)));
export const describe = (target: 'S' | 'P', name: string): Step => F(msg('D', target, cstr(name)));
export const execute = (portal = '', max = 0): Step => F(msg('E', cstr(portal), int32(max)));
export const close = (target: 'S' | 'P', name: string): Step => F(msg('C', target, cstr(name)));
export const sync = (): Step => F(msg('S'));
export const copyData = (text: string): Step => F(msg('d', text));
export const copyDone = (): Step => F(msg('c'));

export const parseComplete = (): Step => B(msg('1'));
export const bindComplete = (): Step => B(msg('2'));
export const closeComplete = (): Step => B(msg('3'));
export const portalSuspended = (): Step => B(msg('s'));
export const emptyQuery = (): Step => B(msg('I'));
export const parameterDescription = (oids: number[]): Step => B(msg('t', int16(oids.length), ...oids.map(uint32)));
/** Fields as [name, type OID, format]. */
export const rowDescription = (fields: [string, number, number?][]): Step =>
  B(msg('T', int16(fields.length), ...fields.flatMap(([n, oid, f]) => [cstr(n), int32(0), int16(0), uint32(oid), int16(-1), int32(-1), int16(f ?? 0)])));
export const dataRow = (vs: (string | Buffer | null)[]): Step => B(msg('D', int16(vs.length), ...values(vs)));
export const commandComplete = (tag: string): Step => B(msg('C', cstr(tag)));
export const ready = (status: 'I' | 'T' | 'E' = 'I'): Step => B(msg('Z', status));
export const error = (code: string, message: string, severity: 'ERROR' | 'FATAL' = 'ERROR'): Step => B(encodeErrorResponse({ severity, code, message }));
export const copyInResponse = (): Step => B(msg('G', [0], int16(1), int16(0)));
export const copyOutResponse = (): Step => B(msg('H', [0], int16(1), int16(0)));
export const serverCopyData = (text: string): Step => B(msg('d', text));
export const serverCopyDone = (): Step => B(msg('c'));

/**
 * A stand-in for decodeValue (being written elsewhere) that knows int4 (23) in both
 * formats and text (25), and records every call, so tests see which type and format the
 * tracker chose.
 */
export function fakeDecoder(): { decode: DecodeValue; calls: { oid: number; format: number; bytes: string }[] } {
  const calls: { oid: number; format: number; bytes: string }[] = [];
  const decode: DecodeValue = (oid, format, bytes): TypedValue | null => {
    calls.push({ oid, format, bytes: bytes.toString('hex') });
    if (oid === 23 && format === 1 && bytes.length === 4) return { type: 'int4', value: bytes.readInt32BE(0), text: String(bytes.readInt32BE(0)) };
    if (oid === 23 && format === 0 && /^-?[0-9]+$/.test(bytes.toString())) return { type: 'int4', value: Number(bytes.toString()), text: bytes.toString() };
    if (oid === 25) return { type: 'text', value: bytes.toString(), text: `'${bytes.toString().replace(/'/g, "''")}'` };
    return null;
  };
  return { decode, calls };
}

export interface Run {
  records: StatementRecord[];
  /** Records with the index of the message whose observe() returned them. */
  emitted: { at: number; record: StatementRecord }[];
  messages: DecodedMessage[];
  tracker: StatementTracker;
}

/** Time of message i. */
export const timeOf = (i: number): number => 1000 + i;

/**
 * Feed the steps (conversation already past its startup) and collect what the tracker
 * reports. The conversation follows statements as a session's does, typing values with
 * the same decoder as the tracker's records (decode, else the stand-in).
 */
export function run(steps: Step[], decode?: DecodeValue, tracker = new StatementTracker({ conn: 7, decode: decode ?? fakeDecoder().decode })): Run {
  const conv = new Conversation({ frontendMode: 'normal', statements: { typeValues: true, decodeValue: decode ?? fakeDecoder().decode } });
  const out: Run = { records: [], emitted: [], messages: [], tracker };
  for (const [dir, bytes] of steps) {
    for (const ev of conv.push(dir, bytes)) {
      if (ev.kind !== 'message') throw new Error(`expected a message, got ${ev.kind}`);
      const i = out.messages.length;
      out.messages.push(ev.message);
      for (const r of tracker.observe(ev.message, timeOf(i))) {
        out.records.push(r);
        out.emitted.push({ at: i, record: r });
      }
    }
  }
  return out;
}

/** The 'value' leaves of a DataRow's columns or a Bind's parameters (undefined for NULL). */
export function leaves(m: DecodedMessage, group: 'column' | 'parameter'): (import('../../../src/protocol/types.js').Span | undefined)[] {
  return m.spans.filter((s) => s.name === group).map((g) => g.children?.find((c) => c.name === 'value'));
}
