/**
 * Real sessions decode completely: psql, node-postgres, postgres.js and the raw test
 * client talk to real PostgreSQL 15 and 18 servers through a recording tap (live, not
 * from fixtures); every recorded connection is then replayed into a Conversation, which
 * must report no framing error, no malformed message, no unknown message, no unparsed
 * span, and spans over every byte; and the messages each session is known to provoke
 * must all appear.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

/** No test or hook may hang the suite: each gets this long. */
const T = { timeout: 120_000 };
import { checkDecodes, type DecodeReport } from '../helpers/decode-check.js';
import { libpq18Env, startPgServer, startPgServers, type PgServer } from '../helpers/pg-server.js';
import * as s from '../helpers/sessions.js';
import { startTap, type Tap } from '../helpers/tap.js';

/** Run clients through a fresh tap, then decode each connection it saw. */
async function through(server: PgServer, session: (port: number) => Promise<unknown>, expectConnections = 1, allowUnparsedEvents = false): Promise<DecodeReport[]> {
  const tap: Tap = await startTap({ host: server.host, port: server.port });
  try {
    await session(tap.port);
    await tap.idle();
    assert.equal(tap.connections.length, expectConnections, 'connections through the tap');
    const reports = tap.connections.map((c) => checkDecodes(c.chunks, { allowUnparsedEvents }));
    reports.forEach((r, i) => assert.deepEqual(r.problems, [], `connection ${i} did not decode completely:\n${r.trace.join('\n')}`));
    return reports;
  } finally {
    await tap.close();
  }
}

function assertNames(r: DecodeReport, expected: string[]): void {
  const missing = expected.filter((n) => !r.names.has(n));
  assert.deepEqual(missing, [], `expected messages missing; seen:\n${r.trace.join('\n')}`);
}

function countOf(r: DecodeReport, name: string, direction?: 'frontend' | 'backend'): number {
  return r.messages.filter((m) => m.name === name && (!direction || m.frame.direction === direction)).length;
}

const STARTUP_SCRAM = ['StartupMessage', 'AuthenticationSASL', 'SASLInitialResponse', 'AuthenticationSASLContinue', 'SASLResponse', 'AuthenticationSASLFinal', 'AuthenticationOk', 'ParameterStatus', 'BackendKeyData', 'ReadyForQuery'];

for (const version of [15, 18] as const) {
  describe(`PostgreSQL ${version}: real sessions through the tap decode completely`, () => {
    let server: PgServer;

    before(async () => {
      server = await startPgServer({ version });
    }, T);
    after(async () => {
      await server?.stop();
    }, T);

    it('psql, simple query protocol: rows, empty query, NOTICE, LISTEN/NOTIFY, multi-statement, COPY out and in, an error', T, async () => {
      const [r] = await through(server, (port) => s.psqlSimpleSession(server, port));
      assertNames(r!, [
        ...STARTUP_SCRAM,
        'Query',
        'RowDescription',
        'DataRow',
        'CommandComplete',
        'EmptyQueryResponse',
        'NoticeResponse',
        'NotificationResponse',
        'CopyOutResponse',
        'CopyInResponse',
        'CopyData',
        'CopyDone',
        'ErrorResponse',
        'Terminate',
      ]);
      assert.equal(countOf(r!, 'Query'), s.PSQL_SIMPLE_COMMANDS.length);
      assert.equal(countOf(r!, 'ReadyForQuery'), s.PSQL_SIMPLE_COMMANDS.length + 1);
      assert.equal(countOf(r!, 'CopyData', 'frontend'), 1, 'psql sends the COPY IN data as one CopyData');
      assert.equal(countOf(r!, 'CopyData', 'backend'), 2, 'one CopyData per row of COPY TO STDOUT');
    });

    it('node-postgres, extended query protocol: parameters, NULL, named statement, binary result, error at Bind', T, async () => {
      const [r] = await through(server, (port) => s.pgExtendedSession(server, port));
      assertNames(r!, [...STARTUP_SCRAM, 'Parse', 'Bind', 'Describe', 'Execute', 'Sync', 'ParseComplete', 'BindComplete', 'RowDescription', 'DataRow', 'CommandComplete', 'ErrorResponse', 'Terminate']);
      // The named statement is parsed once and bound twice.
      assert.equal(countOf(r!, 'Bind') - countOf(r!, 'Parse'), 1);
    });

    it('postgres.js: Parse + Describe statement + Flush, then Bind/Execute/Sync', T, async () => {
      const [r] = await through(server, (port) => s.postgresJsSession(server, port));
      assertNames(r!, [...STARTUP_SCRAM, 'Parse', 'Describe', 'Flush', 'ParseComplete', 'ParameterDescription', 'RowDescription', 'Bind', 'Execute', 'Sync', 'BindComplete', 'DataRow']);
    });

    it('raw client: FunctionCall with NULL and values, PortalSuspended, Describe/Close/Flush/NoData, CopyFail', T, async () => {
      const reports = await through(
        server,
        async (port) => {
          await s.rawFunctionCall(server, port);
          await s.rawPortalSuspended(server, port);
          await s.rawDescribeCloseFlush(server, port);
          await s.rawCopyFail(server, port);
        },
        4,
      );
      const [fn, portal, describeClose, copy] = reports as [DecodeReport, DecodeReport, DecodeReport, DecodeReport];
      assertNames(fn, ['FunctionCall', 'FunctionCallResponse']);
      assert.equal(countOf(fn, 'FunctionCall'), 3);
      assertNames(portal, ['Execute', 'PortalSuspended', 'DataRow', 'CommandComplete']);
      assert.equal(countOf(portal, 'PortalSuspended'), 2);
      assertNames(describeClose, ['Describe', 'ParameterDescription', 'RowDescription', 'Flush', 'Close', 'CloseComplete', 'NoData', 'Sync']);
      assertNames(copy, ['CopyInResponse', 'CopyData', 'CopyDone', 'CopyFail', 'ErrorResponse']);
    });

    it('SSLRequest refused, then a plain startup on the same connection', T, async () => {
      const [r] = await through(server, (port) => s.rawSslRefused(server, port));
      assertNames(r!, ['SSLRequest', 'SSLResponse', ...STARTUP_SCRAM]);
    });

    it('an unknown _pq_. startup option draws NegotiateProtocolVersion', T, async () => {
      const [r] = await through(server, (port) => s.rawPqOption(server, port));
      assertNames(r!, ['NegotiateProtocolVersion', ...STARTUP_SCRAM]);
      assert.deepEqual(r!.conversation.ctx.protocol, { major: 3, minor: 0 });
    });

    it('CancelRequest (protocol 3.0, 4-byte key) cancels a running query', T, async () => {
      const [session, cancel] = await through(server, (port) => s.rawCancel(server, port, 0), 2);
      assertNames(session!, [...STARTUP_SCRAM, 'Query', 'ErrorResponse']);
      assertNames(cancel!, ['CancelRequest']);
      assert.equal(cancel!.messages.length, 1);
      assert.equal(cancel!.messages[0]!.frame.size, 16);
    });

    it('libpq 18 with max_protocol_version=3.2', T, async () => {
      const [r] = await through(server, (port) => s.psqlOneQuery(server, port, { params: { max_protocol_version: '3.2' }, env: libpq18Env() }));
      assertNames(r!, [...STARTUP_SCRAM, 'Query', 'RowDescription', 'DataRow']);
      const key = r!.messages.find((m) => m.name === 'BackendKeyData')!;
      if (version >= 18) {
        assert.ok(!r!.names.has('NegotiateProtocolVersion'));
        assert.deepEqual(r!.conversation.ctx.protocol, { major: 3, minor: 2 });
        assert.equal(key.frame.size, 1 + 4 + 4 + 32, 'PostgreSQL 18 sends a 32-byte cancel key in protocol 3.2');
      } else {
        assertNames(r!, ['NegotiateProtocolVersion']);
        assert.deepEqual(r!.conversation.ctx.protocol, { major: 3, minor: 0 });
        assert.equal(key.frame.size, 1 + 4 + 4 + 4);
      }
    });

    if (version >= 18) {
      it('GSSENCRequest refused (server built without GSSAPI), then a plain startup', T, async () => {
        const [r] = await through(server, (port) => s.rawGssencRefused(server, port));
        assertNames(r!, ['GSSENCRequest', 'GSSENCResponse', ...STARTUP_SCRAM]);
      });

      it('CancelRequest (protocol 3.2, 32-byte key) cancels a running query', T, async () => {
        const [session, cancel] = await through(server, (port) => s.rawCancel(server, port, 2), 2);
        assertNames(session!, [...STARTUP_SCRAM, 'ErrorResponse']);
        assert.equal(cancel!.messages[0]!.name, 'CancelRequest');
        assert.equal(cancel!.messages[0]!.frame.size, 12 + 32);
      });
    }
  });
}

describe('TLS: the codec reads the plaintext part and marks the rest opaque', () => {
  let server15: PgServer;
  let server18: PgServer;
  before(async () => {
    [server15, server18] = (await startPgServers([{ version: 15, ssl: true }, { version: 18, ssl: true }])) as [PgServer, PgServer];
  }, T);
  after(async () => {
    await Promise.all([server15?.stop(), server18?.stop()]);
  }, T);

  it('SSLRequest answered S, then TLS', T, async () => {
    const [r] = await through(server15, (port) => s.psqlOneQuery(server15, port, { params: { sslmode: 'require' } }), 1, true);
    assert.deepEqual(
      r!.messages.map((m) => m.name),
      ['SSLRequest', 'SSLResponse'],
    );
    assert.ok(r!.events.some((e) => e.kind === 'unparsed' && e.direction === 'frontend'));
  });

  it('direct TLS (libpq 18 sslnegotiation=direct): a ClientHello, then opaque bytes', T, async () => {
    const [r] = await through(server18, (port) => s.psqlOneQuery(server18, port, { params: { sslmode: 'require', sslnegotiation: 'direct' } }), 1, true);
    assert.equal(r!.messages[0]!.frame.kind, 'tls-record');
    assert.ok(r!.events.some((e) => e.kind === 'unparsed' && e.direction === 'backend'));
  });
});
