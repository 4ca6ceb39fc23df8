/**
 * Properties, over generated fields: encode(f) decodes with no error, as the same message,
 * and fields() of that gives f back; and the bytes written again from those fields are
 * the same bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { authentication, type Authentication } from '../../../src/protocol/backend/authentication.js';
import { backendKeyData } from '../../../src/protocol/backend/backend-key-data.js';
import { commandComplete } from '../../../src/protocol/backend/command-complete.js';
import { dataRow } from '../../../src/protocol/backend/data-row.js';
import { errorResponse } from '../../../src/protocol/backend/error-response.js';
import { negotiateProtocolVersion } from '../../../src/protocol/backend/negotiate-protocol-version.js';
import { parameterStatus } from '../../../src/protocol/backend/parameter-status.js';
import { rowDescription } from '../../../src/protocol/backend/row-description.js';
import type { FieldCodec } from '../../../src/protocol/decoder.js';
import { bind } from '../../../src/protocol/frontend/bind.js';
import { cancelRequest } from '../../../src/protocol/frontend/cancel-request.js';
import { parse } from '../../../src/protocol/frontend/parse.js';
import { startupMessage } from '../../../src/protocol/frontend/startup-message.js';
import { encodeDecoded } from '../../../src/protocol/registry.js';
import { standbyStatusUpdate } from '../../../src/protocol/replication/standby-status-update.js';
import { insert } from '../../../src/protocol/replication/pgoutput/insert.js';
import { relation } from '../../../src/protocol/replication/pgoutput/relation.js';
import { update } from '../../../src/protocol/replication/pgoutput/update.js';
import type { Direction } from '../../../src/protocol/types.js';
import { carrierOf, encodeAndDecode, pgoutput, PHYSICAL, replicationCtx } from './support.js';
import type { DecodeContext } from '../../../src/protocol/context.js';

const RUNS = { numRuns: 150 };

/** fc.record with plain objects (the decoders' fields are plain objects, not null-prototype ones). */
function rec<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}

/** Text a String can carry: any Unicode, no zero byte. */
const text = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\0/g, ''));
const nonEmpty = text.filter((s) => s.length > 0);
const bytes = (max = 40): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const nullable = fc.option(bytes(), { nil: null });
const format = fc.constantFrom(0, 1);
const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const tupleColumn = fc.oneof(
  fc.constant({ kind: 'n' as const }),
  fc.constant({ kind: 'u' as const }),
  rec({ kind: fc.constantFrom('t' as const, 'b' as const), value: bytes() }),
);
const tuple = fc.array(tupleColumn, { maxLength: 6 });

function check<F>(codec: FieldCodec<F>, dir: Direction, arb: fc.Arbitrary<F>, ctx?: Partial<DecodeContext> | ((f: F) => Partial<DecodeContext>)): void {
  fc.assert(
    fc.property(arb, (f) => {
      const c = typeof ctx === 'function' ? ctx(f) : ctx;
      const { wire, m } = encodeAndDecode({ codec: codec as FieldCodec<unknown>, fields: f, dir, carrier: carrierOf(codec as FieldCodec<unknown>), ...(c ? { ctx: c } : {}) });
      assert.equal(m.error, undefined, m.error?.message);
      assert.deepStrictEqual(codec.fields(m), f);
      assert.deepStrictEqual(encodeDecoded(m), wire);
    }),
    RUNS,
  );
}

describe('encode then decode gives the same fields', () => {
  it('DataRow', () => check(dataRow, 'backend', rec({ columns: fc.array(nullable, { maxLength: 8 }) })));

  it('Bind', () =>
    check(
      bind,
      'frontend',
      rec({ portal: text, statement: text, paramFormats: fc.array(format, { maxLength: 4 }), params: fc.array(nullable, { maxLength: 6 }), resultFormats: fc.array(format, { maxLength: 4 }) }),
    ));

  it('Parse', () => check(parse, 'frontend', rec({ statement: text, query: text, parameterTypes: fc.array(uint32, { maxLength: 5 }) })));

  it('ErrorResponse', () =>
    check(
      errorResponse,
      'backend',
      rec({
        fields: fc.array(
          rec({ type: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), value: text }),
          { maxLength: 8 },
        ),
      }),
    ));

  it('RowDescription', () =>
    check(
      rowDescription,
      'backend',
      rec({
        fields: fc.array(
          rec({ name: text, tableOid: uint32, columnAttributeNumber: int16, dataTypeOid: uint32, dataTypeSize: int16, typeModifier: int32, formatCode: format }),
          { maxLength: 5 },
        ),
      }),
    ));

  it('StartupMessage', () =>
    check(
      startupMessage,
      'frontend',
      rec({ protocol: rec({ major: fc.constant(3), minor: fc.integer({ min: 0, max: 0xffff }) }), params: fc.array(fc.tuple(nonEmpty, text), { maxLength: 5 }) }),
    ));

  it('BackendKeyData and CancelRequest', () => {
    check(backendKeyData, 'backend', rec({ processId: int32, secretKey: fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)) }), { protocol: { major: 3, minor: 2 } });
    check(cancelRequest, 'frontend', rec({ processId: int32, secretKey: fc.uint8Array({ minLength: 4, maxLength: 256 }).map((a) => Buffer.from(a)) }));
  });

  it('CommandComplete, ParameterStatus, NegotiateProtocolVersion', () => {
    check(commandComplete, 'backend', rec({ commandTag: text }));
    check(parameterStatus, 'backend', rec({ name: text, value: text }));
    check(negotiateProtocolVersion, 'backend', rec({ newestMinorVersion: fc.integer({ min: 0, max: 0x7fffffff }), options: fc.array(text, { maxLength: 4 }) }));
  });

  it('Authentication, every request', () =>
    check(
      authentication,
      'backend',
      fc.oneof(
        fc.constantFrom<Authentication>({ code: 0 }, { code: 2 }, { code: 3 }, { code: 7 }, { code: 9 }),
        rec({ code: fc.constant(5 as const), salt: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => Buffer.from(a)) }),
        rec({ code: fc.constantFrom(8 as const, 11 as const, 12 as const), data: bytes() }),
        rec({ code: fc.constant(10 as const), mechanisms: fc.array(nonEmpty, { maxLength: 4 }) }),
      ),
    ));

  it('standby status update (inside CopyData)', () =>
    check(
      standbyStatusUpdate,
      'frontend',
      rec({ writtenLsn: uint64, flushedLsn: uint64, appliedLsn: uint64, sendTime: int64, replyRequested: fc.boolean() }),
      replicationCtx(PHYSICAL),
    ));

  it('pgoutput Insert, Update and Relation (inside XLogData), streamed or not', () => {
    const xid = fc.option(uint32, { nil: undefined });
    // A streamed transaction's messages carry the xid: the stream state says so to the decoder.
    const ctxFor = (f: { xid?: number }): Partial<DecodeContext> => replicationCtx(pgoutput(2, f.xid !== undefined));
    const withXid = <T extends object>(f: T & { xid?: number }): T => (f.xid === undefined ? (({ xid: _, ...rest }) => rest as T)(f) : f);
    check(insert, 'backend', rec({ xid, relationOid: uint32, newTuple: tuple }).map(withXid), ctxFor);
    check(
      update,
      'backend',
      rec({ xid, relationOid: uint32, old: fc.option(rec({ kind: fc.constantFrom('K' as const, 'O' as const), tuple }), { nil: undefined }), newTuple: tuple }).map((f) => {
        const g = withXid(f);
        if (g.old === undefined) delete g.old;
        return g;
      }),
      ctxFor,
    );
    check(
      relation,
      'backend',
      rec({
        xid,
        relationOid: uint32,
        namespace: text,
        relationName: text,
        replicaIdentity: fc.constantFrom('d' as const, 'n' as const, 'f' as const, 'i' as const),
        columns: fc.array(rec({ flags: format, name: text, typeOid: uint32, typeModifier: int32 }), { maxLength: 4 }),
      }).map(withXid),
      ctxFor,
    );
  });
});
