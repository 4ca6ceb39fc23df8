/**
 * The modules' lenient accessors: what code outside the message modules reads from a
 * message that may be malformed or kept only in part (where fields(m) refuses), without
 * spelling a span name. Each gives what the span it reads holds, as far as it was read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authenticationCode, md5Salt, offeredMechanisms } from '../../../src/protocol/backend/authentication.js';
import { dataRowValueSpans } from '../../../src/protocol/backend/data-row.js';
import { errorNoticeFields } from '../../../src/protocol/backend/error-fields.js';
import { minorOf, negotiatedMinor } from '../../../src/protocol/backend/negotiate-protocol-version.js';
import { Conversation } from '../../../src/protocol/conversation.js';
import { commandTagAsRead } from '../../../src/protocol/backend/command-complete.js';
import { parameterTypesAsRead } from '../../../src/protocol/backend/parameter-description.js';
import { readyStatus } from '../../../src/protocol/backend/ready-for-query.js';
import { rowDescriptionColumns } from '../../../src/protocol/backend/row-description.js';
import { bindAsRead, bindParameterValueSpans, bindTarget } from '../../../src/protocol/frontend/bind.js';
import { closeAsRead } from '../../../src/protocol/frontend/close.js';
import { describeAsRead } from '../../../src/protocol/frontend/describe.js';
import { executePortal } from '../../../src/protocol/frontend/execute.js';
import { parseAsRead, parseQuerySpan } from '../../../src/protocol/frontend/parse.js';
import { querySpan, queryText } from '../../../src/protocol/frontend/query.js';
import { saslChannelBindingFlag, saslMechanism } from '../../../src/protocol/frontend/sasl-initial-response.js';
import { startupParameters } from '../../../src/protocol/frontend/startup-message.js';
import { errorFields } from '../../../src/protocol/inspect.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import { decodeOne } from '../../helpers/decode.js';
import { cstr, int16, int32, msg, startupMessage, startupPacket, uint32 } from '../../helpers/wire.js';

/** Decode with a small retention limit: the message is kept only in part. */
function cut(dir: 'frontend' | 'backend', wire: Buffer, retain: number): DecodedMessage {
  const conv = new Conversation({ frontendMode: 'normal', retain });
  const m = conv.push(dir, wire).flatMap((e) => (e.kind === 'message' ? [e.message] : []))[0]!;
  assert.equal(m.frame.complete, false);
  return m;
}

describe('lenient accessors', () => {
  it('Authentication: the code, the offered mechanisms and the salt, even from a malformed message', () => {
    const sasl = decodeOne('backend', msg('R', int32(10), cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'))); // no terminator
    assert.ok(sasl.error);
    assert.equal(authenticationCode(sasl), 10);
    assert.deepEqual(offeredMechanisms(sasl), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    const md5 = decodeOne('backend', msg('R', int32(5), Buffer.from([1, 2, 3, 4])));
    assert.deepEqual(md5Salt(md5), Buffer.from([1, 2, 3, 4]));
    assert.equal(md5Salt(sasl), undefined);
    assert.equal(authenticationCode(decodeOne('backend', msg('R', int32(99)))), 99);
    assert.equal(authenticationCode(decodeOne('backend', msg('Z', 'I'))), undefined);
  });

  it('NegotiateProtocolVersion: the minor number, whichever way it was sent', () => {
    assert.equal(negotiatedMinor(decodeOne('backend', msg('v', int32(196608), int32(0)))), 0);
    assert.equal(negotiatedMinor(decodeOne('backend', msg('v', int32(1), int32(0)))), 1);
    assert.equal(minorOf(196610), 2);
  });

  it('StartupMessage: the parameters by name once the list was read', () => {
    const m = decodeOne('frontend', startupMessage({ user: 'alice', database: 'db' }), {}, 'startup');
    assert.deepEqual(startupParameters(m), { user: 'alice', database: 'db' });
    const broken = decodeOne('frontend', startupPacket(int32(196608), cstr('user'), cstr('alice')), {}, 'startup');
    assert.ok(broken.error);
    assert.equal(startupParameters(broken), undefined);
  });

  it('Query and Parse: the SQL and its span, even with trailing bytes; nothing when it was not kept', () => {
    const trailing = decodeOne('frontend', msg('Q', cstr('START_REPLICATION 0/0'), 'x'));
    assert.ok(trailing.error);
    assert.equal(queryText(trailing), 'START_REPLICATION 0/0');
    assert.equal(querySpan(trailing)?.value, 'START_REPLICATION 0/0');
    const huge = cut('frontend', msg('Q', cstr('SELECT ' + 'x'.repeat(100))), 32);
    assert.equal(queryText(huge), undefined);
    const parse = cut('frontend', msg('P', cstr('s1'), cstr('SELECT ' + 'x'.repeat(100)), int16(0)), 32);
    assert.deepEqual(parseAsRead(parse), { statement: 's1' });
    assert.equal(parseQuerySpan(parse), undefined);
    const whole = decodeOne('frontend', msg('P', cstr(''), cstr('SELECT $1'), int16(1), int32(23)));
    assert.deepEqual(parseAsRead(whole), { statement: '', query: 'SELECT $1', parameterTypes: [23] });
  });

  it('SASLInitialResponse: the mechanism and the GS2 channel-binding flag', () => {
    const first = Buffer.from('p=tls-server-end-point,,n=,r=abc');
    const m = decodeOne('frontend', msg('p', cstr('SCRAM-SHA-256-PLUS'), int32(first.length), first), { authRequest: 10 });
    assert.equal(saslMechanism(m), 'SCRAM-SHA-256-PLUS');
    assert.equal(saslChannelBindingFlag(m), 'p=tls-server-end-point');
  });

  it('ErrorResponse: the fields before a fault, in order; errorFields by code', () => {
    const m = decodeOne('backend', msg('E', cstr('SFATAL'), cstr('C28P01'), cstr('Mpassword authentication failed'))); // no terminator
    assert.ok(m.error);
    assert.deepEqual(errorNoticeFields(m), [
      { type: 'S', value: 'FATAL' },
      { type: 'C', value: '28P01' },
      { type: 'M', value: 'password authentication failed' },
    ]);
    assert.deepEqual(errorFields(m), { S: 'FATAL', C: '28P01', M: 'password authentication failed' });
  });

  it('DataRow and Bind: the value spans as far as they were read (undefined for NULL)', () => {
    const row = cut('backend', msg('D', int16(3), int32(1), '1', int32(-1), int32(100), Buffer.alloc(100)), 40);
    const spans = dataRowValueSpans(row);
    assert.equal(spans.length, 3);
    assert.equal(spans[0]!.value!.toString(), '1');
    assert.equal(spans[1], undefined);
    assert.equal(spans[2]!.retained, 40 - 20);
    const wire = msg('B', cstr('p'), cstr('s'), int16(1), int16(1), int16(2), int32(-1), int32(100), Buffer.alloc(100), int16(0));
    const bind = cut('frontend', wire, 40);
    const read = bindAsRead(bind);
    assert.equal(read.portal, 'p');
    assert.equal(read.statement, 's');
    assert.deepEqual(read.paramFormats, [1]);
    assert.equal(read.resultFormats, undefined);
    assert.deepEqual(
      read.paramValues.map((s) => s?.name),
      [undefined, 'value'],
    );
    assert.deepEqual(bindParameterValueSpans(decodeOne('frontend', wire)).length, 2);
    assert.deepEqual(bindAsRead(decodeOne('frontend', wire)).resultFormats, []);
  });

  it("what the statement context reads: a Bind's target, Describe, Close, Execute, RowDescription, ParameterDescription, CommandComplete, ReadyForQuery", () => {
    const wire = msg('B', cstr('p'), cstr('s'), int16(1), int16(1), int16(2), int32(-1), int32(100), Buffer.alloc(100), int16(2), int16(1), int16(0));
    assert.deepEqual(bindTarget(decodeOne('frontend', wire)), { portal: 'p', statement: 's', resultFormats: [1, 0] });
    assert.deepEqual(bindTarget(cut('frontend', wire, 40)), { portal: 'p', statement: 's', resultFormats: undefined });
    assert.deepEqual(describeAsRead(decodeOne('frontend', msg('D', 'S', cstr('st')))), { target: 'S', name: 'st' });
    // A bad target stops decoding before the name.
    assert.deepEqual(describeAsRead(decodeOne('frontend', msg('D', 'X', cstr('st')))), { target: 'X', name: undefined });
    assert.deepEqual(closeAsRead(decodeOne('frontend', msg('C', 'P', cstr('c')))), { target: 'P', name: 'c' });
    assert.equal(executePortal(decodeOne('frontend', msg('E', cstr('c'), int32(0)))), 'c');
    const field = (name: string, oid: number, format: number): Buffer[] => [cstr(name), int32(0), int16(0), uint32(oid), int16(-1), int32(-1), int16(format)];
    // The second field's format code is impossible: decoding stops there, the field keeps what it read.
    const rd = decodeOne('backend', msg('T', int16(3), ...field('a', 23, 1), ...field('b', 25, 7), ...field('c', 16, 0)));
    assert.ok(rd.error);
    assert.deepEqual(rowDescriptionColumns(rd), [
      { name: 'a', oid: 23, format: 1 },
      { name: 'b', oid: 25, format: 7 },
    ]);
    assert.deepEqual(parameterTypesAsRead(decodeOne('backend', msg('t', int16(2), uint32(23), uint32(4294967295)))), [23, 4294967295]);
    assert.equal(commandTagAsRead(decodeOne('backend', msg('C', cstr('SELECT 1')))), 'SELECT 1');
    // A status the documentation does not define is still what was sent.
    assert.equal(readyStatus(decodeOne('backend', msg('Z', 'X'))), 'X');
  });

  it('accessors of other messages give nothing', () => {
    const z = decodeOne('backend', msg('Z', 'I'));
    assert.deepEqual([offeredMechanisms(z), errorNoticeFields(z), dataRowValueSpans(z)], [[], [], []]);
    assert.equal(saslMechanism(decodeOne('frontend', msg('X'))), undefined);
  });
});
