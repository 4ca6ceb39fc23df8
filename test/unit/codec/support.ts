/**
 * Hand-written typed fields for every codec (one sample or more each), and how to put a
 * codec's output on the wire and decode it again: a normal message as is, a startup packet
 * in the startup phase, an SSL/GSS answer after its request, a replication message inside
 * CopyData, a pgoutput message inside XLogData inside CopyData.
 */
import type { DecodeContext, ReplicationState } from '../../../src/protocol/context.js';
import { copyData } from '../../../src/protocol/copy-data.js';
import type { FieldCodec } from '../../../src/protocol/decoder.js';
import type { FramerMode } from '../../../src/protocol/framer.js';
import { allCodecs } from '../../../src/protocol/registry.js';
import { replicationCodecs } from '../../../src/protocol/replication/index.js';
import { pgoutputDecoders } from '../../../src/protocol/replication/pgoutput/index.js';
import { xlogData } from '../../../src/protocol/replication/xlog-data.js';
import type { DecodedMessage, Direction } from '../../../src/protocol/types.js';
import { decodeOne } from '../../helpers/decode.js';

import { authentication } from '../../../src/protocol/backend/authentication.js';
import { backendKeyData } from '../../../src/protocol/backend/backend-key-data.js';
import { bindComplete } from '../../../src/protocol/backend/bind-complete.js';
import { closeComplete } from '../../../src/protocol/backend/close-complete.js';
import { commandComplete } from '../../../src/protocol/backend/command-complete.js';
import { copyBothResponse } from '../../../src/protocol/backend/copy-both-response.js';
import { copyDone as backendCopyDone } from '../../../src/protocol/backend/copy-done.js';
import { copyInResponse } from '../../../src/protocol/backend/copy-in-response.js';
import { copyOutResponse } from '../../../src/protocol/backend/copy-out-response.js';
import { dataRow } from '../../../src/protocol/backend/data-row.js';
import { emptyQueryResponse } from '../../../src/protocol/backend/empty-query-response.js';
import { gssencResponse, sslResponse } from '../../../src/protocol/backend/encryption-response.js';
import { errorResponse } from '../../../src/protocol/backend/error-response.js';
import { functionCallResponse } from '../../../src/protocol/backend/function-call-response.js';
import { negotiateProtocolVersion } from '../../../src/protocol/backend/negotiate-protocol-version.js';
import { noData } from '../../../src/protocol/backend/no-data.js';
import { noticeResponse } from '../../../src/protocol/backend/notice-response.js';
import { notificationResponse } from '../../../src/protocol/backend/notification-response.js';
import { parameterDescription } from '../../../src/protocol/backend/parameter-description.js';
import { parameterStatus } from '../../../src/protocol/backend/parameter-status.js';
import { parseComplete } from '../../../src/protocol/backend/parse-complete.js';
import { portalSuspended } from '../../../src/protocol/backend/portal-suspended.js';
import { readyForQuery } from '../../../src/protocol/backend/ready-for-query.js';
import { rowDescription } from '../../../src/protocol/backend/row-description.js';
import { authenticationResponse } from '../../../src/protocol/frontend/authentication-response.js';
import { bind } from '../../../src/protocol/frontend/bind.js';
import { cancelRequest } from '../../../src/protocol/frontend/cancel-request.js';
import { close } from '../../../src/protocol/frontend/close.js';
import { copyDone as frontendCopyDone } from '../../../src/protocol/frontend/copy-done.js';
import { copyFail } from '../../../src/protocol/frontend/copy-fail.js';
import { describe as describeMessage } from '../../../src/protocol/frontend/describe.js';
import { execute } from '../../../src/protocol/frontend/execute.js';
import { flush } from '../../../src/protocol/frontend/flush.js';
import { functionCall } from '../../../src/protocol/frontend/function-call.js';
import { gssResponse } from '../../../src/protocol/frontend/gss-response.js';
import { gssencRequest } from '../../../src/protocol/frontend/gssenc-request.js';
import { parse } from '../../../src/protocol/frontend/parse.js';
import { passwordMessage } from '../../../src/protocol/frontend/password-message.js';
import { query } from '../../../src/protocol/frontend/query.js';
import { saslInitialResponse } from '../../../src/protocol/frontend/sasl-initial-response.js';
import { saslResponse } from '../../../src/protocol/frontend/sasl-response.js';
import { sslRequest } from '../../../src/protocol/frontend/ssl-request.js';
import { startupMessage } from '../../../src/protocol/frontend/startup-message.js';
import { sync } from '../../../src/protocol/frontend/sync.js';
import { terminate } from '../../../src/protocol/frontend/terminate.js';
import { tlsRecordDecoder } from '../../../src/protocol/frontend/tls-client-hello.js';
import { hotStandbyFeedback } from '../../../src/protocol/replication/hot-standby-feedback.js';
import { primaryKeepalive } from '../../../src/protocol/replication/primary-keepalive.js';
import { standbyStatusUpdate } from '../../../src/protocol/replication/standby-status-update.js';
import { begin } from '../../../src/protocol/replication/pgoutput/begin.js';
import { beginPrepare } from '../../../src/protocol/replication/pgoutput/begin-prepare.js';
import { commit } from '../../../src/protocol/replication/pgoutput/commit.js';
import { commitPrepared } from '../../../src/protocol/replication/pgoutput/commit-prepared.js';
import { del } from '../../../src/protocol/replication/pgoutput/delete.js';
import { insert } from '../../../src/protocol/replication/pgoutput/insert.js';
import { message } from '../../../src/protocol/replication/pgoutput/message.js';
import { origin } from '../../../src/protocol/replication/pgoutput/origin.js';
import { prepare } from '../../../src/protocol/replication/pgoutput/prepare.js';
import { relation } from '../../../src/protocol/replication/pgoutput/relation.js';
import { rollbackPrepared } from '../../../src/protocol/replication/pgoutput/rollback-prepared.js';
import { streamAbort } from '../../../src/protocol/replication/pgoutput/stream-abort.js';
import { streamCommit } from '../../../src/protocol/replication/pgoutput/stream-commit.js';
import { streamPrepare } from '../../../src/protocol/replication/pgoutput/stream-prepare.js';
import { streamStart } from '../../../src/protocol/replication/pgoutput/stream-start.js';
import { streamStop } from '../../../src/protocol/replication/pgoutput/stream-stop.js';
import { truncate } from '../../../src/protocol/replication/pgoutput/truncate.js';
import { type } from '../../../src/protocol/replication/pgoutput/type.js';
import { update } from '../../../src/protocol/replication/pgoutput/update.js';

/** Where a codec's output goes on the wire. */
export type Carrier = 'message' | 'startup' | 'answer' | 'replication' | 'pgoutput';

export interface Sample {
  /** Test label. */
  label: string;
  codec: FieldCodec<unknown>;
  fields: unknown;
  /** Who sends it. */
  dir: Direction;
  carrier: Carrier;
  /** The context it is decoded in (the request a 'p' answers; the replication stream). */
  ctx?: Partial<DecodeContext>;
}

export const PHYSICAL: ReplicationState = { kind: 'physical', pgoutput: null, inStream: false };
export function pgoutput(protoVersion: number, inStream = false, streaming = 'on'): ReplicationState {
  return { kind: 'logical', pgoutput: { protoVersion, streaming, twoPhase: true, messages: true, binary: false }, inStream };
}
export const replicationCtx = (state: ReplicationState): Partial<DecodeContext> => ({ replication: state, copy: 'both' });

/** The carrier of each codec kind. */
export function carrierOf(codec: FieldCodec<unknown>): Carrier {
  if ((replicationCodecs as readonly FieldCodec<unknown>[]).includes(codec)) return 'replication';
  if ((Object.values(pgoutputDecoders) as FieldCodec<unknown>[]).includes(codec)) return 'pgoutput';
  if (codec === sslResponse || codec === gssencResponse) return 'answer';
  if ([startupMessage, sslRequest, gssencRequest, cancelRequest, tlsRecordDecoder].includes(codec as never)) return 'startup';
  return 'message';
}

/** A codec's output as the bytes that travel: wrapped in XLogData and CopyData where it is carried so. */
export function onTheWire(carrier: Carrier, bytes: Buffer): Buffer {
  if (carrier === 'replication') return copyData.encode({ data: bytes });
  if (carrier === 'pgoutput') return copyData.encode({ data: xlogData.encode({ walStart: 0x1000n, walEnd: 0x2000n, sendTime: 817_000_000_000_000n, data: bytes }) });
  return bytes;
}

/** Encode a sample's fields, put them on the wire and decode them. */
export function encodeAndDecode(s: Pick<Sample, 'codec' | 'fields' | 'dir' | 'carrier' | 'ctx'>): { bytes: Buffer; wire: Buffer; m: DecodedMessage } {
  const bytes = s.codec.encode(s.fields);
  const wire = onTheWire(s.carrier, bytes);
  const mode: FramerMode = s.carrier === 'startup' ? 'startup' : s.carrier === 'answer' ? 'answer' : 'normal';
  const ctx: Partial<DecodeContext> = { ...(s.carrier === 'answer' ? { awaitingAnswer: s.codec === gssencResponse ? 'gss' : 'ssl' } : {}), ...s.ctx };
  return { bytes, wire, m: decodeOne(s.dir, wire, ctx, mode) };
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const TS = 817_000_000_000_000n;
const tuple = [{ kind: 'n' as const }, { kind: 'u' as const }, { kind: 't' as const, value: b('42') }, { kind: 'b' as const, value: Buffer.from([0, 0, 0, 7]) }];

/** A ClientHello record (TLS 1.2 style, SNI db.example, ALPN postgresql). */
function clientHelloFragment(): Buffer {
  const u16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
  const sniName = b('db.example');
  const sni = Buffer.concat([u16(sniName.length + 3), Buffer.from([0]), u16(sniName.length), sniName]);
  const alpnName = b('postgresql');
  const alpn = Buffer.concat([u16(alpnName.length + 1), Buffer.from([alpnName.length]), alpnName]);
  const exts = Buffer.concat([u16(0), u16(sni.length), sni, u16(16), u16(alpn.length), alpn]);
  const body = Buffer.concat([u16(0x0303), Buffer.alloc(32, 7), Buffer.from([0]), u16(2), u16(0x1301), Buffer.from([1, 0]), u16(exts.length), exts]);
  return Buffer.concat([Buffer.from([1, 0]), u16(body.length), body]);
}

function sample(label: string, codec: FieldCodec<unknown>, dir: Direction, fields: unknown, ctx?: Partial<DecodeContext>): Sample {
  return { label, codec, dir, fields, carrier: carrierOf(codec), ...(ctx ? { ctx } : {}) };
}

export const SAMPLES: Sample[] = [
  // Startup phase.
  sample('StartupMessage', startupMessage, 'frontend', { protocol: { major: 3, minor: 0 }, params: [['user', 'alice'], ['database', 'db'], ['application_name', 'psql']] }),
  sample('StartupMessage 3.2, no parameters', startupMessage, 'frontend', { protocol: { major: 3, minor: 2 }, params: [] }),
  sample('SSLRequest', sslRequest, 'frontend', {}),
  sample('GSSENCRequest', gssencRequest, 'frontend', {}),
  sample('CancelRequest 3.0', cancelRequest, 'frontend', { processId: 4242, secretKey: Buffer.from([1, 2, 3, 4]) }),
  sample('CancelRequest 3.2', cancelRequest, 'frontend', { processId: 4242, secretKey: Buffer.alloc(32, 0xab) }),
  sample('TLS record', tlsRecordDecoder, 'frontend', { contentType: 22, legacyRecordVersion: 0x0301, fragment: clientHelloFragment() }),
  sample('SSLResponse S', sslResponse, 'backend', { answer: 'S' }),
  sample('SSLResponse N', sslResponse, 'backend', { answer: 'N' }),
  sample('GSSENCResponse G', gssencResponse, 'backend', { answer: 'G' }),
  sample('GSSENCResponse N', gssencResponse, 'backend', { answer: 'N' }),
  // Client messages.
  sample('Bind', bind, 'frontend', { portal: 'p1', statement: 's1', paramFormats: [0, 1], params: [b('42'), null, Buffer.alloc(0)], resultFormats: [1] }),
  sample('Bind, nothing', bind, 'frontend', { portal: '', statement: '', paramFormats: [], params: [], resultFormats: [] }),
  sample('Close', close, 'frontend', { target: 'S', name: 's1' }),
  sample('Close portal', close, 'frontend', { target: 'P', name: '' }),
  sample('CopyData', copyData, 'frontend', { data: b('1\tone\n') }),
  sample('CopyDone (client)', frontendCopyDone, 'frontend', {}),
  sample('CopyFail', copyFail, 'frontend', { message: 'client gave up' }),
  sample('Describe', describeMessage, 'frontend', { target: 'P', name: 'c1' }),
  sample('Execute', execute, 'frontend', { portal: '', maxRows: 10 }),
  sample('Flush', flush, 'frontend', {}),
  sample('FunctionCall', functionCall, 'frontend', { functionOid: 1397, argumentFormats: [0], arguments: [null, b('-5')], resultFormat: 1 }),
  sample('Parse', parse, 'frontend', { statement: 's1', query: 'SELECT $1::int4, $2 -- ünïcödé', parameterTypes: [23, 0, 4294967295] }),
  sample('Query', query, 'frontend', { query: 'SELECT 1;' }),
  sample('Sync', sync, 'frontend', {}),
  sample('Terminate', terminate, 'frontend', {}),
  sample('PasswordMessage (cleartext)', passwordMessage, 'frontend', { password: b('hunter2') }, { authRequest: 3 }),
  sample('PasswordMessage (MD5)', passwordMessage, 'frontend', { password: b('md5' + '0123456789abcdef0123456789abcdef') }, { authRequest: 5 }),
  sample('SASLInitialResponse', saslInitialResponse, 'frontend', { mechanism: 'SCRAM-SHA-256', initialResponse: b('n,,n=,r=rOprNGfwEbeRWgbNEkqO') }, { authRequest: 10 }),
  sample('SASLInitialResponse, none', saslInitialResponse, 'frontend', { mechanism: 'OAUTHBEARER', initialResponse: null }, { authRequest: 10 }),
  sample('SASLResponse', saslResponse, 'frontend', { data: b('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=') }, { authRequest: 11 }),
  sample('GSSResponse', gssResponse, 'frontend', { data: Buffer.from([0x60, 0x82, 0x01, 0x00]) }, { authRequest: 7 }),
  sample('authentication response, request not seen', authenticationResponse, 'frontend', { data: b('hunter2\0') }),
  // Server messages.
  sample('AuthenticationOk', authentication, 'backend', { code: 0 }),
  sample('AuthenticationKerberosV5', authentication, 'backend', { code: 2 }),
  sample('AuthenticationCleartextPassword', authentication, 'backend', { code: 3 }),
  sample('AuthenticationMD5Password', authentication, 'backend', { code: 5, salt: Buffer.from([1, 2, 3, 4]) }),
  sample('AuthenticationGSS', authentication, 'backend', { code: 7 }),
  sample('AuthenticationGSSContinue', authentication, 'backend', { code: 8, data: Buffer.from([0xa1, 0x02]) }),
  sample('AuthenticationSSPI', authentication, 'backend', { code: 9 }),
  sample('AuthenticationSASL', authentication, 'backend', { code: 10, mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] }),
  sample('AuthenticationSASLContinue', authentication, 'backend', { code: 11, data: b('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096') }),
  sample('AuthenticationSASLFinal', authentication, 'backend', { code: 12, data: b('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=') }),
  sample('BackendKeyData 3.0', backendKeyData, 'backend', { processId: 4242, secretKey: Buffer.from([1, 2, 3, 4]) }),
  sample('BackendKeyData 3.2', backendKeyData, 'backend', { processId: 4242, secretKey: Buffer.alloc(32, 0xcd) }),
  sample('BindComplete', bindComplete, 'backend', {}),
  sample('CloseComplete', closeComplete, 'backend', {}),
  sample('CommandComplete', commandComplete, 'backend', { commandTag: 'INSERT 0 5' }),
  sample('CopyInResponse', copyInResponse, 'backend', { overallFormat: 0, columnFormats: [0, 0] }),
  sample('CopyOutResponse', copyOutResponse, 'backend', { overallFormat: 1, columnFormats: [1, 0] }),
  sample('CopyBothResponse', copyBothResponse, 'backend', { overallFormat: 0, columnFormats: [] }),
  sample('CopyData (server)', copyData, 'backend', { data: b('1\tone\n') }),
  sample('CopyDone (server)', backendCopyDone, 'backend', {}),
  sample('DataRow', dataRow, 'backend', { columns: [b('1'), null, Buffer.alloc(0)] }),
  sample('EmptyQueryResponse', emptyQueryResponse, 'backend', {}),
  sample('ErrorResponse', errorResponse, 'backend', {
    fields: [
      { type: 'S', value: 'ERROR' },
      { type: 'V', value: 'ERROR' },
      { type: 'C', value: '42P01' },
      { type: 'M', value: 'relation "nope" does not exist' },
      { type: 'P', value: '15' },
      { type: 'Z', value: 'a field type the documentation does not have' },
    ],
  }),
  sample('NoticeResponse', noticeResponse, 'backend', { fields: [{ type: 'S', value: 'NOTICE' }, { type: 'C', value: '00000' }, { type: 'M', value: 'hello' }] }),
  sample('FunctionCallResponse', functionCallResponse, 'backend', { result: b('5') }),
  sample('FunctionCallResponse NULL', functionCallResponse, 'backend', { result: null }),
  sample('NegotiateProtocolVersion', negotiateProtocolVersion, 'backend', { newestMinorVersion: 196608, options: ['_pq_.test_option'] }),
  sample('NoData', noData, 'backend', {}),
  sample('NotificationResponse', notificationResponse, 'backend', { processId: 4242, channel: 'chan', payload: 'payload' }),
  sample('ParameterDescription', parameterDescription, 'backend', { parameterTypes: [23, 25, 4294967295] }),
  sample('ParameterStatus', parameterStatus, 'backend', { name: 'server_version', value: '18.1' }),
  sample('ParseComplete', parseComplete, 'backend', {}),
  sample('PortalSuspended', portalSuspended, 'backend', {}),
  sample('ReadyForQuery', readyForQuery, 'backend', { status: 'T' }),
  sample('RowDescription', rowDescription, 'backend', {
    fields: [
      { name: 'id', tableOid: 16385, columnAttributeNumber: 1, dataTypeOid: 23, dataTypeSize: 4, typeModifier: -1, formatCode: 0 },
      { name: 'v', tableOid: 0, columnAttributeNumber: 0, dataTypeOid: 1043, dataTypeSize: -1, typeModifier: 24, formatCode: 1 },
    ],
  }),
  // Streaming replication, inside CopyData.
  sample('XLogData', xlogData, 'backend', { walStart: 0x1000n, walEnd: 0x2000n, sendTime: TS, data: Buffer.from([0x14, 0x01, 0x06, 0]) }, replicationCtx(PHYSICAL)),
  sample('primary keepalive', primaryKeepalive, 'backend', { walEnd: 0x16b3790n, sendTime: TS, replyRequested: true }, replicationCtx(PHYSICAL)),
  sample('standby status update', standbyStatusUpdate, 'frontend', { writtenLsn: 0x2000n, flushedLsn: 0x2000n, appliedLsn: 0x1000n, sendTime: TS, replyRequested: false }, replicationCtx(PHYSICAL)),
  sample('hot standby feedback', hotStandbyFeedback, 'frontend', { sendTime: TS, xmin: 750, xminEpoch: 0, catalogXmin: 740, catalogXminEpoch: 1 }, replicationCtx(PHYSICAL)),
  // pgoutput, inside XLogData.
  sample('Begin', begin, 'backend', { finalLsn: 0x3000n, commitTimestamp: TS, xid: 777 }, replicationCtx(pgoutput(1))),
  sample('Message', message, 'backend', { flags: 1, lsn: 0x3000n, prefix: 'prefix', content: b('hello') }, replicationCtx(pgoutput(1))),
  sample('Message, streamed', message, 'backend', { xid: 777, flags: 0, lsn: 0x3000n, prefix: 'p', content: b('x') }, replicationCtx(pgoutput(2, true))),
  sample('Commit', commit, 'backend', { commitLsn: 0x3000n, endLsn: 0x3100n, commitTimestamp: TS }, replicationCtx(pgoutput(1))),
  sample('Origin', origin, 'backend', { commitLsn: 0x3000n, name: 'origin1' }, replicationCtx(pgoutput(1))),
  sample('Relation', relation, 'backend', {
    relationOid: 16385,
    namespace: 'public',
    relationName: 't',
    replicaIdentity: 'd',
    columns: [
      { flags: 1, name: 'id', typeOid: 23, typeModifier: -1 },
      { flags: 0, name: 'v', typeOid: 25, typeModifier: -1 },
    ],
  }, replicationCtx(pgoutput(1))),
  sample('Type', type, 'backend', { typeOid: 16390, namespace: 'public', name: 'mood' }, replicationCtx(pgoutput(1))),
  sample('Insert', insert, 'backend', { relationOid: 16385, newTuple: tuple }, replicationCtx(pgoutput(1))),
  sample('Insert, streamed', insert, 'backend', { xid: 777, relationOid: 16385, newTuple: tuple }, replicationCtx(pgoutput(2, true))),
  sample('Update', update, 'backend', { relationOid: 16385, newTuple: tuple }, replicationCtx(pgoutput(1))),
  sample('Update, old tuple', update, 'backend', { relationOid: 16385, old: { kind: 'O', tuple }, newTuple: tuple }, replicationCtx(pgoutput(1))),
  sample('Update, old key', update, 'backend', { xid: 9, relationOid: 16385, old: { kind: 'K', tuple: [tuple[2]!] }, newTuple: tuple }, replicationCtx(pgoutput(3, true))),
  sample('Delete', del, 'backend', { relationOid: 16385, old: { kind: 'K', tuple } }, replicationCtx(pgoutput(1))),
  sample('Delete, old tuple', del, 'backend', { relationOid: 16385, old: { kind: 'O', tuple: [] } }, replicationCtx(pgoutput(1))),
  sample('Truncate', truncate, 'backend', { options: 3, relationOids: [16385, 16386] }, replicationCtx(pgoutput(1))),
  sample('Stream Start', streamStart, 'backend', { xid: 777, firstSegment: true }, replicationCtx(pgoutput(2))),
  sample('Stream Stop', streamStop, 'backend', {}, replicationCtx(pgoutput(2, true))),
  sample('Stream Commit', streamCommit, 'backend', { xid: 777, commitLsn: 0x3000n, endLsn: 0x3100n, commitTimestamp: TS }, replicationCtx(pgoutput(2))),
  sample('Stream Abort', streamAbort, 'backend', { xid: 777, subtransactionXid: 778 }, replicationCtx(pgoutput(2))),
  sample('Stream Abort, parallel', streamAbort, 'backend', { xid: 777, subtransactionXid: 777, abortLsn: 0x3000n, abortTimestamp: TS }, replicationCtx(pgoutput(4, false, 'parallel'))),
  sample('Begin Prepare', beginPrepare, 'backend', { prepareLsn: 0x3000n, endLsn: 0x3100n, prepareTimestamp: TS, xid: 777, gid: 'gid1' }, replicationCtx(pgoutput(3))),
  sample('Prepare', prepare, 'backend', { prepareLsn: 0x3000n, endLsn: 0x3100n, prepareTimestamp: TS, xid: 777, gid: 'gid1' }, replicationCtx(pgoutput(3))),
  sample('Commit Prepared', commitPrepared, 'backend', { commitLsn: 0x3000n, endLsn: 0x3100n, commitTimestamp: TS, xid: 777, gid: 'gid1' }, replicationCtx(pgoutput(3))),
  sample('Rollback Prepared', rollbackPrepared, 'backend', { prepareEndLsn: 0x3000n, rollbackEndLsn: 0x3100n, prepareTimestamp: TS, rollbackTimestamp: TS + 1n, xid: 777, gid: 'gid1' }, replicationCtx(pgoutput(3))),
  sample('Stream Prepare', streamPrepare, 'backend', { prepareLsn: 0x3000n, endLsn: 0x3100n, prepareTimestamp: TS, xid: 777, gid: 'gid1' }, replicationCtx(pgoutput(3))),
];

/** Every codec, for coverage checks. */
export const ALL = allCodecs();
