/**
 * Built messages for every entry of protocol-coverage.md, both directions, with the
 * context each needs. The fuzz tests mutate them, the split tests cut them, and the
 * coverage test checks that every message the checklist names decodes by name.
 * Where a real server can produce the same message, test/fixtures has the real bytes too.
 */
import type { DecodeContext, ReplicationState } from '../../src/protocol/context.js';
import type { Direction } from '../../src/protocol/types.js';
import { bytes, cstr, int16, int32, int64, int8, msg, startupMessage, startupPacket } from './wire.js';

export interface CorpusEntry {
  /** The name decodeFrame must give it (DecodedMessage.name), or a sub name after '/'. */
  expect: string;
  dir: Direction;
  bytes: Buffer;
  mode?: 'startup' | 'normal' | 'answer';
  ctx?: Partial<DecodeContext>;
}

const lsn = (hi: number, lo: number): Buffer => Buffer.concat([int32(hi), int32(lo)]);
const ts = int64(817_000_000_000_000n); // 2025-11-21T…
const physical: ReplicationState = { kind: 'physical', pgoutput: null, inStream: false };
const pgo = (protoVersion: number, inStream = false, streaming = 'on'): ReplicationState => ({
  kind: 'logical',
  pgoutput: { protoVersion, streaming, twoPhase: true, messages: true, binary: false },
  inStream,
});
const repl = (state: ReplicationState) => ({ replication: state, copy: 'both' as const });
const xlog = (payload: Buffer): Buffer => msg('d', 'w', lsn(0, 0x1000), lsn(0, 0x2000), ts, payload);
const tuple = Buffer.concat([int16(4), bytes('n'), bytes('u'), bytes('t'), int32(2), bytes('42'), bytes('b'), int32(4), int32(7)]);
const xid = int32(777);

const clientHello = (() => {
  // A minimal TLS 1.2-style ClientHello with SNI "db.example" and ALPN "postgresql".
  const sniName = Buffer.from('db.example');
  const sni = Buffer.concat([int16(sniName.length + 3), int8(0), int16(sniName.length), sniName]);
  const alpnName = Buffer.from('postgresql');
  const alpn = Buffer.concat([int16(alpnName.length + 1), int8(alpnName.length), alpnName]);
  const exts = Buffer.concat([int16(0), int16(sni.length), sni, int16(16), int16(alpn.length), alpn]);
  const body = Buffer.concat([int16(0x0303), Buffer.alloc(32, 7), int8(0), int16(2), int16(0x1301), int8(1), int8(0), int16(exts.length), exts]);
  const hs = Buffer.concat([int8(1), int8(0), int16(body.length), body]);
  return Buffer.concat([int8(0x16), int16(0x0301), int16(hs.length), hs]);
})();

export const CORPUS: CorpusEntry[] = [
  // Startup phase, client → server.
  { expect: 'StartupMessage', dir: 'frontend', mode: 'startup', bytes: startupMessage({ user: 'alice', database: 'db', application_name: 'psql' }) },
  { expect: 'StartupMessage', dir: 'frontend', mode: 'startup', bytes: startupMessage({ user: 'alice', _pq_: 'x', '_pq_.test_option': 'on', replication: 'database' }, 2) },
  { expect: 'SSLRequest', dir: 'frontend', mode: 'startup', bytes: startupPacket(int32(80877103)) },
  { expect: 'GSSENCRequest', dir: 'frontend', mode: 'startup', bytes: startupPacket(int32(80877104)) },
  { expect: 'CancelRequest', dir: 'frontend', mode: 'startup', bytes: startupPacket(int32(80877102), int32(4242), int32(0x01020304)) },
  { expect: 'CancelRequest', dir: 'frontend', mode: 'startup', bytes: startupPacket(int32(80877102), int32(4242), Buffer.alloc(32, 0xab)) },
  { expect: 'TLS ClientHello (direct TLS)', dir: 'frontend', mode: 'startup', bytes: clientHello },
  // One-byte answers.
  { expect: 'SSLResponse', dir: 'backend', mode: 'answer', bytes: bytes('S'), ctx: { awaitingAnswer: 'ssl' } },
  { expect: 'SSLResponse', dir: 'backend', mode: 'answer', bytes: bytes('N'), ctx: { awaitingAnswer: 'ssl' } },
  { expect: 'GSSENCResponse', dir: 'backend', mode: 'answer', bytes: bytes('N'), ctx: { awaitingAnswer: 'gss' } },
  { expect: 'GSSENCResponse', dir: 'backend', mode: 'answer', bytes: bytes('G'), ctx: { awaitingAnswer: 'gss' } },
  // Client → server.
  { expect: 'Bind', dir: 'frontend', bytes: msg('B', cstr('p1'), cstr('s1'), int16(2), int16(0), int16(1), int16(3), int32(2), bytes('42'), int32(-1), int32(4), int32(7), int16(1), int16(1)) },
  { expect: 'Close', dir: 'frontend', bytes: msg('C', 'S', cstr('s1')) },
  { expect: 'Close', dir: 'frontend', bytes: msg('C', 'P', cstr('')) },
  { expect: 'CopyData', dir: 'frontend', bytes: msg('d', '1\tone\n') },
  { expect: 'CopyDone', dir: 'frontend', bytes: msg('c') },
  { expect: 'CopyFail', dir: 'frontend', bytes: msg('f', cstr('client gave up')) },
  { expect: 'Describe', dir: 'frontend', bytes: msg('D', 'S', cstr('s1')) },
  { expect: 'Execute', dir: 'frontend', bytes: msg('E', cstr(''), int32(10)) },
  { expect: 'Flush', dir: 'frontend', bytes: msg('H') },
  { expect: 'FunctionCall', dir: 'frontend', bytes: msg('F', int32(1397), int16(1), int16(0), int16(2), int32(-1), int32(2), bytes('-5'), int16(0)) },
  { expect: 'GSSResponse', dir: 'frontend', bytes: msg('p', Buffer.from([0x60, 0x82, 0x01, 0x00])), ctx: { authRequest: 7 } },
  { expect: 'GSSResponse', dir: 'frontend', bytes: msg('p', Buffer.from([0x60, 0x82])), ctx: { authRequest: 9 } },
  { expect: 'Parse', dir: 'frontend', bytes: msg('P', cstr('s1'), cstr('SELECT $1::int4, $2'), int16(2), int32(23), int32(0)) },
  { expect: 'PasswordMessage', dir: 'frontend', bytes: msg('p', cstr('hunter2')), ctx: { authRequest: 3 } },
  { expect: 'PasswordMessage', dir: 'frontend', bytes: msg('p', cstr('md5' + '0123456789abcdef0123456789abcdef')), ctx: { authRequest: 5 } },
  (() => {
    const first = Buffer.from('n,,n=,r=rOprNGfwEbeRWgbNEkqO');
    return { expect: 'SASLInitialResponse', dir: 'frontend' as const, bytes: msg('p', cstr('SCRAM-SHA-256'), int32(first.length), first), ctx: { authRequest: 10 } };
  })(),
  (() => {
    const first = Buffer.from('p=tls-server-end-point,,n=,r=rOprNGfwEbeRWgbNEkqO');
    return { expect: 'SASLInitialResponse', dir: 'frontend' as const, bytes: msg('p', cstr('SCRAM-SHA-256-PLUS'), int32(first.length), first), ctx: { authRequest: 10 } };
  })(),
  {
    expect: 'SASLResponse',
    dir: 'frontend',
    bytes: msg('p', 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='),
    ctx: { authRequest: 11 },
  },
  { expect: 'Query', dir: 'frontend', bytes: msg('Q', cstr('SELECT 1;')) },
  { expect: 'Sync', dir: 'frontend', bytes: msg('S') },
  { expect: 'Terminate', dir: 'frontend', bytes: msg('X') },
  // Server → client.
  { expect: 'AuthenticationOk', dir: 'backend', bytes: msg('R', int32(0)) },
  { expect: 'AuthenticationKerberosV5', dir: 'backend', bytes: msg('R', int32(2)) },
  { expect: 'AuthenticationCleartextPassword', dir: 'backend', bytes: msg('R', int32(3)) },
  { expect: 'AuthenticationMD5Password', dir: 'backend', bytes: msg('R', int32(5), Buffer.from([1, 2, 3, 4])) },
  { expect: 'AuthenticationGSS', dir: 'backend', bytes: msg('R', int32(7)) },
  { expect: 'AuthenticationGSSContinue', dir: 'backend', bytes: msg('R', int32(8), Buffer.from([0xa1, 0x02])) },
  { expect: 'AuthenticationSSPI', dir: 'backend', bytes: msg('R', int32(9)) },
  { expect: 'AuthenticationSASL', dir: 'backend', bytes: msg('R', int32(10), cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), int8(0)) },
  { expect: 'AuthenticationSASLContinue', dir: 'backend', bytes: msg('R', int32(11), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096') },
  { expect: 'AuthenticationSASLFinal', dir: 'backend', bytes: msg('R', int32(12), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=') },
  { expect: 'BackendKeyData', dir: 'backend', bytes: msg('K', int32(4242), int32(0x01020304)) },
  { expect: 'BackendKeyData', dir: 'backend', bytes: msg('K', int32(4242), Buffer.alloc(32, 0xcd)) },
  { expect: 'BindComplete', dir: 'backend', bytes: msg('2') },
  { expect: 'CloseComplete', dir: 'backend', bytes: msg('3') },
  { expect: 'CommandComplete', dir: 'backend', bytes: msg('C', cstr('INSERT 0 5')) },
  { expect: 'CopyInResponse', dir: 'backend', bytes: msg('G', int8(0), int16(2), int16(0), int16(0)) },
  { expect: 'CopyOutResponse', dir: 'backend', bytes: msg('H', int8(1), int16(1), int16(1)) },
  { expect: 'CopyBothResponse', dir: 'backend', bytes: msg('W', int8(0), int16(0)) },
  { expect: 'CopyData', dir: 'backend', bytes: msg('d', '1\tone\n') },
  { expect: 'CopyDone', dir: 'backend', bytes: msg('c') },
  { expect: 'DataRow', dir: 'backend', bytes: msg('D', int16(3), int32(1), '1', int32(-1), int32(0)) },
  { expect: 'EmptyQueryResponse', dir: 'backend', bytes: msg('I') },
  {
    expect: 'ErrorResponse',
    dir: 'backend',
    bytes: msg(
      'E',
      ...['SERROR', 'VERROR', 'C42P01', 'Mrelation "nope" does not exist', 'DSome detail', 'HSome hint', 'P15', 'p3', 'qSELECT 1', 'Wwhere', 'spublic', 'tnope', 'ccol', 'dint4', 'nnope_pkey', 'Fparse_relation.c', 'L1392', 'RparserOpenTable'].map(cstr),
      int8(0),
    ),
  },
  { expect: 'NoticeResponse', dir: 'backend', bytes: msg('N', cstr('SNOTICE'), cstr('VNOTICE'), cstr('C00000'), cstr('Mhello'), cstr('Wline 1'), int8(0)) },
  { expect: 'FunctionCallResponse', dir: 'backend', bytes: msg('V', int32(1), '5') },
  { expect: 'FunctionCallResponse', dir: 'backend', bytes: msg('V', int32(-1)) },
  { expect: 'NegotiateProtocolVersion', dir: 'backend', bytes: msg('v', int32(0), int32(1), cstr('_pq_.test_option')) },
  { expect: 'NoData', dir: 'backend', bytes: msg('n') },
  { expect: 'NotificationResponse', dir: 'backend', bytes: msg('A', int32(4242), cstr('chan'), cstr('payload')) },
  { expect: 'ParameterDescription', dir: 'backend', bytes: msg('t', int16(2), int32(23), int32(25)) },
  { expect: 'ParameterStatus', dir: 'backend', bytes: msg('S', cstr('server_version'), cstr('18.1')) },
  { expect: 'ParseComplete', dir: 'backend', bytes: msg('1') },
  { expect: 'PortalSuspended', dir: 'backend', bytes: msg('s') },
  { expect: 'ReadyForQuery', dir: 'backend', bytes: msg('Z', 'T') },
  { expect: 'RowDescription', dir: 'backend', bytes: msg('T', int16(1), cstr('n'), int32(16385), int16(1), int32(23), int16(4), int32(-1), int16(0)) },
  // Streaming replication inside CopyData.
  { expect: 'CopyData/XLogData', dir: 'backend', bytes: xlog(Buffer.from([0x14, 0x01, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00])), ctx: repl(physical) },
  { expect: 'CopyData/PrimaryKeepalive', dir: 'backend', bytes: msg('d', 'k', lsn(0, 0x2000), ts, int8(1)), ctx: repl(physical) },
  { expect: 'CopyData/StandbyStatusUpdate', dir: 'frontend', bytes: msg('d', 'r', lsn(0, 0x2000), lsn(0, 0x2000), lsn(0, 0x1000), ts, int8(0)), ctx: repl(physical) },
  { expect: 'CopyData/HotStandbyFeedback', dir: 'frontend', bytes: msg('d', 'h', ts, int32(750), int32(0), int32(740), int32(0)), ctx: repl(physical) },
  // pgoutput, inside XLogData.
  { expect: 'CopyData/Begin', dir: 'backend', bytes: xlog(Buffer.concat([bytes('B'), lsn(0, 0x3000), ts, xid])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/Message', dir: 'backend', bytes: xlog(Buffer.concat([bytes('M'), int8(1), lsn(0, 0x3000), cstr('prefix'), int32(5), bytes('hello')])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/Message', dir: 'backend', bytes: xlog(Buffer.concat([bytes('M'), xid, int8(0), lsn(0, 0x3000), cstr('p'), int32(1), bytes('x')])), ctx: repl(pgo(2, true)) },
  { expect: 'CopyData/Commit', dir: 'backend', bytes: xlog(Buffer.concat([bytes('C'), int8(0), lsn(0, 0x3000), lsn(0, 0x3100), ts])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/Origin', dir: 'backend', bytes: xlog(Buffer.concat([bytes('O'), lsn(0, 0x3000), cstr('origin1')])), ctx: repl(pgo(1)) },
  {
    expect: 'CopyData/Relation',
    dir: 'backend',
    bytes: xlog(Buffer.concat([bytes('R'), int32(16385), cstr('public'), cstr('t'), bytes('d'), int16(2), int8(1), cstr('id'), int32(23), int32(-1), int8(0), cstr('v'), int32(25), int32(-1)])),
    ctx: repl(pgo(1)),
  },
  { expect: 'CopyData/Type', dir: 'backend', bytes: xlog(Buffer.concat([bytes('Y'), int32(16390), cstr('public'), cstr('mood')])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/Insert', dir: 'backend', bytes: xlog(Buffer.concat([bytes('I'), int32(16385), bytes('N'), tuple])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/Insert', dir: 'backend', bytes: xlog(Buffer.concat([bytes('I'), xid, int32(16385), bytes('N'), tuple])), ctx: repl(pgo(2, true)) },
  { expect: 'CopyData/Update', dir: 'backend', bytes: xlog(Buffer.concat([bytes('U'), int32(16385), bytes('O'), tuple, bytes('N'), tuple])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/Update', dir: 'backend', bytes: xlog(Buffer.concat([bytes('U'), int32(16385), bytes('N'), tuple])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/Delete', dir: 'backend', bytes: xlog(Buffer.concat([bytes('D'), int32(16385), bytes('K'), tuple])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/Truncate', dir: 'backend', bytes: xlog(Buffer.concat([bytes('T'), int32(2), int8(3), int32(16385), int32(16386)])), ctx: repl(pgo(1)) },
  { expect: 'CopyData/StreamStart', dir: 'backend', bytes: xlog(Buffer.concat([bytes('S'), xid, int8(1)])), ctx: repl(pgo(2)) },
  { expect: 'CopyData/StreamStop', dir: 'backend', bytes: xlog(bytes('E')), ctx: repl(pgo(2, true)) },
  { expect: 'CopyData/StreamCommit', dir: 'backend', bytes: xlog(Buffer.concat([bytes('c'), xid, int8(0), lsn(0, 0x3000), lsn(0, 0x3100), ts])), ctx: repl(pgo(2)) },
  { expect: 'CopyData/StreamAbort', dir: 'backend', bytes: xlog(Buffer.concat([bytes('A'), xid, int32(778)])), ctx: repl(pgo(2)) },
  { expect: 'CopyData/StreamAbort', dir: 'backend', bytes: xlog(Buffer.concat([bytes('A'), xid, int32(778), lsn(0, 0x3000), ts])), ctx: repl(pgo(4, false, 'parallel')) },
  { expect: 'CopyData/BeginPrepare', dir: 'backend', bytes: xlog(Buffer.concat([bytes('b'), lsn(0, 0x3000), lsn(0, 0x3100), ts, xid, cstr('gid1')])), ctx: repl(pgo(3)) },
  { expect: 'CopyData/Prepare', dir: 'backend', bytes: xlog(Buffer.concat([bytes('P'), int8(0), lsn(0, 0x3000), lsn(0, 0x3100), ts, xid, cstr('gid1')])), ctx: repl(pgo(3)) },
  { expect: 'CopyData/CommitPrepared', dir: 'backend', bytes: xlog(Buffer.concat([bytes('K'), int8(0), lsn(0, 0x3000), lsn(0, 0x3100), ts, xid, cstr('gid1')])), ctx: repl(pgo(3)) },
  { expect: 'CopyData/RollbackPrepared', dir: 'backend', bytes: xlog(Buffer.concat([bytes('r'), int8(0), lsn(0, 0x3000), lsn(0, 0x3100), ts, ts, xid, cstr('gid1')])), ctx: repl(pgo(3)) },
  { expect: 'CopyData/StreamPrepare', dir: 'backend', bytes: xlog(Buffer.concat([bytes('p'), int8(0), lsn(0, 0x3000), lsn(0, 0x3100), ts, xid, cstr('gid1')])), ctx: repl(pgo(3)) },
];
