/**
 * The whole pipeline, in-process: every recorded conversation (test/fixtures) fed to a real
 * Session (one connection each, as the I/O shell would: the client's chunks as
 * client-data, the server's as server-data once pgscope connected, TLS and connects
 * granted at once), with statement analysis as the outputs ask for it, and every output
 * sink on: the annotated text log, JSON lines, the query log, the summary and pcapng.
 * Returns what each output wrote. Deterministic: the sessions' clock is synthetic.
 * `syntheticConversations()` adds hand-built ones for what the recordings lack (SQL and
 * parameters carrying passwords, DEALLOCATE, pipelines that fail midway, Describe 'S'
 * with binary results, a huge parameter, a framing error followed by a Bind).
 *
 * `freezeDecoded` turns on the conversations' test mode in which every decoded message is
 * deep-frozen right after decoding: anything that writes to one afterwards throws.
 *
 * Written against the interfaces the proxy had before decoding became final too (an
 * unknown `freezeDecoded` is ignored there), so that the same run on an older checkout
 * gives the reference digests (test/golden/session-pipeline.json).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/app/config.js';
import { openOutputs } from '../../src/output/outputs.js';
import { packBatch, unpackBatch } from '../../src/app/decode-transfer.js';
import { CancelRegistry } from '../../src/session/cancel-registry.js';
import { DecodeStage, type DecodeEntry, type DecodeItem } from '../../src/session/decode-elsewhere.js';
import type { MessageHook } from '../../src/session/message-hook.js';
import { Session, type SessionAction, type SessionInput, type SessionSettings } from '../../src/session/session.js';
import type { Fixture } from './fixtures.js';
import { cstr, int16, int32, msg, startupMessage, uint32 } from './wire.js';

export interface PipelineOutputs {
  /** The annotated text log, with the summary printed at the end. */
  text: string;
  jsonl: string;
  queryLog: string;
  pcapng: Buffer;
  /** Warnings of the outputs (a sink that threw is turned off with one). */
  warnings: string[];
}

const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: null, alpn: 'postgresql' };

/**
 * `decodeElsewhere`: the sessions hand their conversations over as the proxy does with a
 * decode thread, and what they emit crosses as it would (packBatch, a structured clone,
 * unpackBatch) into a DecodeStage that feeds the outputs: the outputs must not differ.
 */
export async function runPipeline(fixtures: Fixture[], opts: { redact: boolean; freezeDecoded?: boolean; decodeElsewhere?: boolean; hook?: MessageHook }): Promise<PipelineOutputs> {
  const dir = mkdtempSync(join(tmpdir(), 'pgscope-pipeline-'));
  try {
    let text = '';
    const warnings: string[] = [];
    const files = { jsonl: join(dir, 'out.jsonl'), queryLog: join(dir, 'query.log'), pcap: join(dir, 'out.pcapng') };
    const o = openOutputs(
      { ...DEFAULTS, logForwarded: 'annotated', redactPasswords: opts.redact, jsonl: files.jsonl, queryLog: files.queryLog, pcap: files.pcap, summary: true },
      { writeText: (t) => (text += t), warn: (t) => warnings.push(t) },
    );
    const analysis = o.statements;
    if (!analysis || !analysis.typed || !analysis.records || analysis.redact !== opts.redact) throw new Error(`the outputs should ask for typed values and records, got ${JSON.stringify(analysis)}`);
    const settings: SessionSettings = {
      serverHost: 'db.example',
      serverDeleteSuffix: '',
      serverConnectPort: 5432,
      serverSslnegotiation: 'postgres',
      clientDenySsl: false,
      serverTls: { attempt: false, requireEncryption: false, mode: 'disable' },
      wire: o.wire,
      statements: { ...analysis, ...(opts.freezeDecoded ? { freezeDecoded: true } : {}) },
      essentialOnly: !o.showsMessages && !opts.hook,
      logCerts: false,
      hook: opts.hook ?? null,
      ...(opts.decodeElsewhere ? { decodeElsewhere: true } : {}),
    };
    const cancels = new CancelRegistry();
    let clock = 1_795_223_564_693.125;
    const now = (): number => (clock += 0.375);
    if (opts.decodeElsewhere) {
      const stage = new DecodeStage({ statements: settings.statements ?? null, wire: settings.wire ?? false }, o.log);
      let handedOver = 0;
      const cross = (entries: DecodeEntry[]): void => {
        const batch = packBatch(entries);
        for (const e of unpackBatch(structuredClone(batch, { transfer: batch.data ? [batch.data] : [] }))) stage.take(e);
      };
      fixtures.forEach((f, i) => {
        const entries: DecodeEntry[] = [];
        feed(new Session(i + 1, settings, cancels, now), f, i, (event) => entries.push({ kind: 'event', event }), (item) => {
          if (item.kind === 'hand-over') handedOver++;
          entries.push(item);
          // A batch now and then, as turns of the event loop would make them.
          if (entries.length > 7) cross(entries.splice(0));
        });
        cross(entries);
      });
      if (handedOver === 0) throw new Error('no session handed its conversation over');
    } else fixtures.forEach((f, i) => feed(new Session(i + 1, settings, cancels, now), f, i, o.log));
    o.flush();
    o.printSummary();
    await o.close();
    return { text, jsonl: readFileSync(files.jsonl, 'utf8'), queryLog: readFileSync(files.queryLog, 'utf8'), pcapng: readFileSync(files.pcap), warnings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One recorded conversation through one session. */
function feed(session: Session, f: Fixture, i: number, log: (ev: Extract<SessionAction, { type: 'log' }>['event']) => void, decode?: (item: DecodeItem) => void): void {
  let serverConnected = false;
  let closed = false;
  const inputs: SessionInput[] = [];
  const run = (input: SessionInput): void => {
    inputs.push(input);
    while (inputs.length > 0) {
      for (const a of session.handle(inputs.shift()!)) {
        switch (a.type) {
          case 'log':
            log(a.event);
            break;
          case 'decode-elsewhere':
            decode!(a.item);
            break;
          case 'connect-server':
            serverConnected = true;
            inputs.push({ type: 'server-connected', address: '192.0.2.7', port: a.port, localAddress: '192.0.2.1', localPort: 50000 + i });
            break;
          case 'start-client-tls':
            inputs.push({ type: 'client-tls-ready', info: TLS });
            break;
          case 'start-server-tls':
            inputs.push({ type: 'server-tls-ready', info: { ...TLS, sni: a.host }, certificate: null });
            break;
          case 'close':
          case 'reset':
            closed = true;
            break;
        }
      }
    }
  };
  run({ type: 'client-connected', address: '198.51.100.9', port: 40000 + i, localAddress: '127.0.0.1', localPort: 5433 });
  for (const c of f.chunks) {
    if (closed) break;
    if (c.dir === 'frontend') run({ type: 'client-data', bytes: c.bytes });
    // The server's bytes once pgscope has a server leg (it answers SSLRequest itself).
    else if (serverConnected) run({ type: 'server-data', bytes: c.bytes });
  }
  if (!closed) run({ type: 'client-closed' });
  run({ type: 'ended' });
}

/** What the reference file holds for each output: its size and sha256. */
export function digests(out: PipelineOutputs): Record<string, { bytes: number; sha256: string }> {
  const d = (b: Buffer | string): { bytes: number; sha256: string } => ({ bytes: Buffer.byteLength(b), sha256: createHash('sha256').update(b).digest('hex') });
  return { text: d(out.text), jsonl: d(out.jsonl), queryLog: d(out.queryLog), pcapng: d(out.pcapng) };
}

const values = (vs: (string | Buffer | null)[]): Buffer[] =>
  vs.flatMap((v) => (v === null ? [int32(-1)] : [int32(Buffer.byteLength(v)), typeof v === 'string' ? Buffer.from(v) : v]));
const codes = (cs: number[]): Buffer[] => [int16(cs.length), ...cs.map(int16)];
const Q = (sql: string): Buffer => msg('Q', cstr(sql));
const P = (name: string, sql: string, oids: number[] = []): Buffer => msg('P', cstr(name), cstr(sql), int16(oids.length), ...oids.map(uint32));
const B = (portal: string, statement: string, params: (string | Buffer | null)[] = [], formats: number[] = [], results: number[] = []): Buffer =>
  msg('B', cstr(portal), cstr(statement), ...codes(formats), int16(params.length), ...values(params), ...codes(results));
const D = (target: 'S' | 'P', name: string): Buffer => msg('D', target, cstr(name));
const E = (portal = '', max = 0): Buffer => msg('E', cstr(portal), int32(max));
const S = (): Buffer => msg('S');
const T = (fields: [string, number, number?][]): Buffer =>
  msg('T', int16(fields.length), ...fields.flatMap(([n, oid, f]) => [cstr(n), int32(0), int16(0), uint32(oid), int16(-1), int32(-1), int16(f ?? 0)]));
const DR = (vs: (string | Buffer | null)[]): Buffer => msg('D', int16(vs.length), ...values(vs));
const C = (tag: string): Buffer => msg('C', cstr(tag));
const Z = (status = 'I'): Buffer => msg('Z', status);
const ERR = (code: string, message: string): Buffer => msg('E', 'S', cstr('ERROR'), 'V', cstr('ERROR'), 'C', cstr(code), 'M', cstr(message), [0]);

/** Hand-built conversations (startup, AuthenticationOk, then the steps), as recorded fixtures. */
export function syntheticConversations(): Fixture[] {
  const conv = (name: string, steps: ['frontend' | 'backend', Buffer[]][]): Fixture => ({
    name,
    description: `synthetic: ${name}`,
    server: 'synthetic',
    client: 'synthetic',
    chunks: [
      { dir: 'frontend', bytes: startupMessage({ user: 'alice', database: 'db' }) },
      { dir: 'backend', bytes: Buffer.concat([msg('R', int32(0)), msg('K', int32(42), int32(7)), Z()]) },
      ...steps.map(([dir, parts]) => ({ dir, bytes: Buffer.concat(parts) })),
    ],
  });
  return [
    conv('sql-passwords', [
      ['frontend', [Q("ALTER ROLE a PASSWORD 'pw'; SELECT 1::int4 AS one")]],
      ['backend', [C('ALTER ROLE'), T([['one', 23]]), DR(['1']), C('SELECT 1'), Z()]],
      ['frontend', [P('', 'ALTER ROLE bob PASSWORD $1', [25]), B('', '', ['hunter2']), E(), S()]],
      ['backend', [msg('1'), msg('2'), C('ALTER ROLE'), Z()]],
      ['frontend', [P('', 'SELECT dblink_connect($1, $2)', [25, 25]), B('', '', ['host=x password=secret', 'postgresql://u:pw@h/db']), E(), S()]],
      ['backend', [msg('1'), msg('2'), T([['dblink_connect', 25]]), DR(['OK']), C('SELECT 1'), Z()]],
      ['frontend', [Q("CREATE SUBSCRIPTION s CONNECTION 'host=h password=p' PUBLICATION pub")]],
      ['backend', [C('CREATE SUBSCRIPTION'), Z()]],
    ]),
    conv('prepared-described-binary', [
      ['frontend', [P('P0_1', 'SELECT abalance, now() AS at, ARRAY[1,2] AS arr FROM t WHERE aid = $1'), D('S', 'P0_1'), S()]],
      ['backend', [msg('1'), msg('t', int16(1), uint32(23)), T([['abalance', 23], ['at', 1184], ['arr', 1007]]), Z()]],
      ['frontend', [B('', 'P0_1', [int32(5)], [1], [1]), E(), S()]],
      [
        'backend',
        [
          msg('2'),
          DR([int32(500), Buffer.from('0002c8a8a3b6c000', 'hex'), Buffer.concat([int32(1), int32(0), uint32(23), int32(2), int32(1), int32(4), int32(1), int32(4), int32(2)])]),
          C('SELECT 1'),
          Z(),
        ],
      ],
      ['frontend', [B('c', 'P0_1', ['9'], [], [0, 1, 0]), D('P', 'c'), E('c', 1), E('c', 1), S()]],
      ['backend', [msg('2'), T([['abalance', 23, 0], ['at', 1184, 1], ['arr', 1007, 0]]), DR(['900', Buffer.from('0002c8a8a3b6c000', 'hex'), '{1,2}']), msg('s'), C('SELECT 0'), Z('T')]],
    ]),
    conv('deallocate-and-pipeline-error', [
      ['frontend', [P('s1', 'SELECT $1::int4', [23]), S()]],
      ['backend', [msg('1'), Z()]],
      ['frontend', [B('', 's1', ['1']), E(), S()]],
      ['backend', [msg('2'), T([['int4', 23]]), DR(['1']), C('SELECT 1'), Z()]],
      ['frontend', [Q('DEALLOCATE s1; SELECT 2')]],
      ['backend', [C('DEALLOCATE'), T([['?column?', 23]]), DR(['2']), C('SELECT 1'), Z()]],
      ['frontend', [B('', 's1', ['3']), E(), S()]],
      ['backend', [ERR('26000', 'prepared statement "s1" does not exist'), Z()]],
      ['frontend', [P('', 'INSERT INTO t VALUES ($1)', [23]), B('', '', ['1']), E(), P('', 'INSERT INTO nope VALUES ($1)', [23]), B('', '', ['2']), E(), P('', 'SELECT $1::text', [25]), B('', '', ['x']), E(), S()]],
      ['backend', [msg('1'), msg('2'), C('INSERT 0 1'), ERR('42P01', 'relation "nope" does not exist'), Z()]],
      ['frontend', [Q('SELECT 1/0; SELECT 3')]],
      ['backend', [T([['?column?', 23]]), ERR('22012', 'division by zero'), Z()]],
      ['frontend', [P('big', 'SELECT length($1)', [25]), B('', 'big', ['x'.repeat(5000)]), E(), S()]],
      ['backend', [msg('1'), msg('2'), T([['length', 23]]), DR(['5000']), C('SELECT 1'), Z()]],
      ['frontend', [Q('DISCARD ALL')]],
      ['backend', [C('DISCARD ALL'), Z()]],
      ['frontend', [B('', 'big', ['y']), E(), S()]],
      ['backend', [ERR('26000', 'prepared statement "big" does not exist'), Z()]],
    ]),
    conv('framing-error-then-bind', [
      ['frontend', [P('s', 'SELECT $1::int4', [23]), B('', 's', ['1']), E(), S()]],
      ['backend', [msg('1'), msg('2'), DR(['1']), C('SELECT 1'), Z(), Buffer.from([0x5a, 0, 0, 0, 1])]],
      ['frontend', [B('', 's', ['2']), E(), S(), Q("ALTER ROLE c PASSWORD 'x'")]],
    ]),
  ];
}
