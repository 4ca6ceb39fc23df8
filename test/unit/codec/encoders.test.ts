/**
 * Every codec's encoder, on hand-written fields: its output decodes with no error, as the
 * same message, to the same fields. Fields no message can carry are an EncodeError; a
 * message that cannot be given as fields is a FieldsError naming it and the offset.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authentication } from '../../../src/protocol/backend/authentication.js';
import { backendKeyData } from '../../../src/protocol/backend/backend-key-data.js';
import { commandComplete } from '../../../src/protocol/backend/command-complete.js';
import { copyInResponse } from '../../../src/protocol/backend/copy-in-response.js';
import { dataRow } from '../../../src/protocol/backend/data-row.js';
import { errorResponse } from '../../../src/protocol/backend/error-response.js';
import { readyForQuery } from '../../../src/protocol/backend/ready-for-query.js';
import { rowDescription } from '../../../src/protocol/backend/row-description.js';
import { Conversation } from '../../../src/protocol/conversation.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import * as encode from '../../../src/protocol/encode.js';
import { EncodeError, FieldsError } from '../../../src/protocol/errors.js';
import { bind } from '../../../src/protocol/frontend/bind.js';
import { cancelRequest } from '../../../src/protocol/frontend/cancel-request.js';
import { close } from '../../../src/protocol/frontend/close.js';
import { passwordMessage } from '../../../src/protocol/frontend/password-message.js';
import { query } from '../../../src/protocol/frontend/query.js';
import { startupMessage } from '../../../src/protocol/frontend/startup-message.js';
import { codecOf, encodeDecoded, pgoutputCodecOf, replicationCodecOf, tryFields } from '../../../src/protocol/registry.js';
import { decodeOne } from '../../helpers/decode.js';
import { cstr, int16, int32, msg } from '../../helpers/wire.js';
import { ALL, encodeAndDecode, SAMPLES } from './support.js';

describe('encoders', () => {
  for (const s of SAMPLES) {
    it(`${s.label}: encodes to a message that decodes with no error, to the same fields`, () => {
      const { wire, m } = encodeAndDecode(s);
      assert.equal(m.error, undefined, m.error?.message);
      assert.ok(m.frame.complete);
      assert.equal(m.frame.size, wire.length);
      // The decoded message's codec is this one (directly, or as its replication payload).
      const found = s.carrier === 'replication' ? replicationCodecOf(m) : s.carrier === 'pgoutput' ? pgoutputCodecOf(m) : codecOf(m);
      assert.equal(found, s.codec, `decoded as ${m.name} ${m.sub.join('/')}`);
      assert.deepStrictEqual(s.codec.fields(m), s.fields);
      // And the whole message, written again from its own fields, is the same bytes.
      assert.deepStrictEqual(encodeDecoded(m), wire);
    });
  }

  it('every codec has a hand-written sample', () => {
    const sampled = new Set(SAMPLES.map((s) => s.codec));
    const missing = ALL.filter((c) => !sampled.has(c)).map((c) => c.name);
    assert.deepEqual(missing, []);
    // Every authentication request code, too.
    const codes = SAMPLES.filter((s) => s.codec === authentication).map((s) => (s.fields as { code: number }).code);
    assert.deepEqual(codes.sort((a, b) => a - b), [0, 2, 3, 5, 7, 8, 9, 10, 11, 12]);
  });

  it('refuses fields no well-formed message carries, naming the message and the field', () => {
    const cases: [() => Buffer, RegExp][] = [
      [() => query.encode({ query: 'SELECT 1\0; DROP TABLE x' }), /Query: query: a String may not contain a zero byte/],
      [() => readyForQuery.encode({ status: 'X' as 'I' }), /ReadyForQuery: status/],
      [() => bind.encode({ portal: '', statement: '', paramFormats: [2], params: [], resultFormats: [] }), /Bind: parameter format code: 0 \(text\) or 1 \(binary\), got 2/],
      [() => bind.encode({ portal: '', statement: '', paramFormats: [], params: Array(40000).fill(null), resultFormats: [] }), /number of parameter values: an integer from -32768 to 32767/],
      [() => rowDescription.encode({ fields: [{ name: 'a', tableOid: -1, columnAttributeNumber: 0, dataTypeOid: 23, dataTypeSize: 4, typeModifier: -1, formatCode: 0 }] }), /table OID/],
      [() => backendKeyData.encode({ processId: 1, secretKey: Buffer.alloc(257) }), /secret key: at most 256 bytes/],
      [() => cancelRequest.encode({ processId: 1, secretKey: Buffer.alloc(3) }), /secret key: 4 to 256 bytes/],
      [() => close.encode({ target: 'X' as 'S', name: '' }), /Close: target/],
      [() => copyInResponse.encode({ overallFormat: 0, columnFormats: [1] }), /all must be zero if the overall copy format is textual/],
      [() => authentication.encode({ code: 5, salt: Buffer.alloc(3) }), /salt: 4 bytes, got 3/],
      [() => authentication.encode({ code: 6 } as never), /Authentication: code/],
      [() => authentication.encode({ code: 10, mechanisms: [''] }), /mechanism name cannot be empty/],
      [() => startupMessage.encode({ protocol: { major: 3, minor: 0 }, params: [['', 'x']] }), /parameter name cannot be empty/],
      [() => startupMessage.encode({ protocol: { major: 2, minor: 0 }, params: [] }), /major version 3/],
      [() => passwordMessage.encode({ password: Buffer.from('a\0b') }), /zero byte/],
      [() => errorResponse.encode({ fields: [{ type: 'SX', value: 'x' }] }), /field type: one character/],
      [() => errorResponse.encode({ fields: [{ type: '\0', value: 'x' }] }), /field type/],
      [() => dataRow.encode({ columns: [1 as unknown as Buffer] }), /DataRow/],
    ];
    for (const [fn, re] of cases) {
      assert.throws(fn, (e: unknown) => e instanceof EncodeError && re.test(e.message), String(re));
    }
  });

  it('keeps the old builders of encode.ts byte for byte', () => {
    // Recorded from the hand-written builders before they became wrappers over the codecs.
    const expected: Record<string, [Buffer, string]> = {
      ssl: [encode.encodeSslRequest(), '0000000804d2162f'],
      gss: [encode.encodeGssEncRequest(), '0000000804d21630'],
      cancel4: [encode.encodeCancelRequest(4242, Buffer.from([1, 2, 3, 4])), '0000001004d2162e0000109201020304'],
      cancel32: [encode.encodeCancelRequest(0x7fffffff, Buffer.alloc(32, 0xab)), '0000002c04d2162e7fffffff' + 'ab'.repeat(32)],
      clear: [encode.encodeAuthenticationCleartextPassword(), '520000000800000003'],
      pw: [encode.encodePasswordMessage(Buffer.from('hunter2')), '700000000c68756e7465723200'],
      sasl1: [encode.encodeSaslInitialResponse('SCRAM-SHA-256', Buffer.from('n,,n=,r=abc')), '7000000021534352414d2d5348412d323536000000000b6e2c2c6e3d2c723d616263'],
      sasl2: [encode.encodeSaslResponse(Buffer.from('c=biws,r=abc,p=xyz')), '7000000016633d626977732c723d6162632c703d78797a'],
      err: [
        encode.encodeErrorResponse({ severity: 'FATAL', code: '08006', message: 'bye\0 now', detail: 'd', hint: 'h' }),
        '450000002953464154414c0056464154414c00433038303036004d627965206e6f770044640048680000',
      ],
      notice: [encode.encodeErrorResponse({ severity: 'NOTICE', code: '00000', message: 'héllo' }, 'N'), '4e00000024534e4f5449434500564e4f5449434500433030303030004d68c3a96c6c6f0000'],
      msg: [encode.encodeMessage('Q', Buffer.from('x\0')), '51000000067800'],
      msg0: [encode.encodeMessage('S'), '5300000004'],
    };
    for (const [name, [got, hex]] of Object.entries(expected)) assert.equal(got.toString('hex'), hex, name);
  });
});

describe('fields(m) refuses what it cannot give exactly', () => {
  it('a malformed message: FieldsError "malformed" at the error\'s offset', () => {
    const m = decodeOne('backend', msg('Z', 'X'));
    assert.ok(m.error);
    assert.throws(
      () => readyForQuery.fields(m),
      (e: unknown) => e instanceof FieldsError && e.code === 'malformed' && e.messageName === 'ReadyForQuery' && e.offset === m.error!.offset,
    );
    assert.equal(tryFields(readyForQuery, m), null);
    assert.throws(() => encodeDecoded(m), FieldsError);
  });

  it('a message kept only in part (huge): FieldsError "not-retained" at the first byte not kept', () => {
    const conv = new Conversation({ frontendMode: 'normal', retain: 16 });
    const row = msg('D', int16(1), int32(100), Buffer.alloc(100, 0x61));
    const m = conv.push('backend', row).flatMap((e) => (e.kind === 'message' ? [e.message] : []))[0]!;
    assert.equal(m.frame.complete, false);
    assert.throws(
      () => dataRow.fields(m),
      (e: unknown) => e instanceof FieldsError && e.code === 'not-retained' && e.offset === m.frame.bytes.length && /DataRow/.test(e.message),
    );
  });

  it("another codec's message: FieldsError \"not-this-message\"", () => {
    const m = decodeOne('backend', msg('C', cstr('SELECT 1')));
    assert.deepEqual(commandComplete.fields(m), { commandTag: 'SELECT 1' });
    assert.throws(() => readyForQuery.fields(m), (e: unknown) => e instanceof FieldsError && e.code === 'not-this-message');
    // The same bytes from the client are a Close.
    const c = decodeOne('frontend', msg('C', cstr('SELECT 1')));
    assert.throws(() => commandComplete.fields(c), (e: unknown) => e instanceof FieldsError && e.code === 'not-this-message');
  });

  it('a String that is not UTF-8: FieldsError "not-utf8" at the field (a JS string would not encode back)', () => {
    const latin1 = msg('Q', Buffer.from([0x53, 0xe9, 0x4c, 0]));
    const m = decodeOne('frontend', latin1);
    assert.equal(m.error, undefined);
    assert.throws(() => query.fields(m), (e: unknown) => e instanceof FieldsError && e.code === 'not-utf8' && e.offset === 5);
    // U+FFFD sent as such is valid UTF-8 and comes back.
    const m2 = decodeOne('frontend', msg('Q', cstr('a\uFFFDb')));
    assert.deepEqual(query.fields(m2), { query: 'a\uFFFDb' });
    assert.deepStrictEqual(encodeDecoded(m2), m2.frame.bytes);
  });

  it('Buffers in fields are views of the frame, not copies', () => {
    const m = decodeOne('backend', msg('D', int16(1), int32(2), 'ab'));
    const f = dataRow.fields(m);
    assert.equal(f.columns[0]!.buffer, m.frame.bytes.buffer);
  });

  it('decoding builds no typed object: fields are read only when asked', () => {
    // decodeFrame's result has exactly the members it always had.
    const m = decodeFrame(decodeOne('backend', msg('Z', 'I')).frame, new Conversation().ctx);
    assert.deepEqual(Object.keys(m).sort(), ['frame', 'name', 'spans', 'sub']);
  });
});
