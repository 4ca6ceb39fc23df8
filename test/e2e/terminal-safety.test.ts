/**
 * Nothing from the wire reaches a terminal as a control character (issue: "What attacks …
 * found", item 2). A hostile client sends an SNI name and SQL full of escape sequences; a
 * hostile server (scripted here) answers with a column name, a text value, a command tag
 * and an error message full of them: C0 (ESC, BEL, CR), C1 (U+009B, a CSI on many
 * terminals) and bidi overrides. The annotated log (colour on: pgscope's own escape
 * sequences must survive), the compact log, the status lines, the query log, the summary and JSON lines are
 * checked: the text outputs hold no control character but pgscope's own colours, and
 * JSON lines stay valid JSON that decodes to exactly what was sent.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPgscope, type Pgscope } from '../helpers/pgscope.js';
import { fe, RawClient } from '../helpers/raw-client.js';
import { waitUntil } from '../helpers/outputs-util.js';
import { cstr, int16, int32, msg } from '../helpers/wire.js';

const T = { timeout: 60_000 };
/** What a terminal would obey: ESC sequences (clear, retitle), BEL, CR, C1 CSI, bidi overrides. */
const HOSTILE = '\x1b[2J\x1b]0;pwned\x07\r\x9b31m\u202eevil\u2066x\u2069';
/** An SNI name is bytes that Node reads as Latin-1: the ASCII controls of HOSTILE. */
const HOSTILE_SNI = '\x1b[2J\x1b]0;pwned\x07\r';
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

const dir = mkdtempSync(join(tmpdir(), 'pgscope-terminal-'));
let fake: Server;
let fakePort = 0;
let proxy: Pgscope;
let compactProxy: Pgscope | undefined;

/** Reads a startup packet, then answers each Query with hostile text; the second with an error. */
function serve(s: Socket): void {
  let buf = Buffer.alloc(0);
  let started = false;
  let queries = 0;
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (!started) {
        if (buf.length < 4 || buf.length < buf.readInt32BE(0)) return;
        buf = buf.subarray(buf.readInt32BE(0));
        started = true;
        s.write(Buffer.concat([msg('R', int32(0)), msg('S', cstr('server_version'), cstr(`15.99 ${HOSTILE}`)), msg('K', int32(4242), int32(7)), msg('Z', 'I')]));
        continue;
      }
      if (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) return;
      const type = String.fromCharCode(buf[0]!);
      buf = buf.subarray(1 + buf.readInt32BE(1));
      if (type === 'X') return void s.end();
      if (type !== 'Q') continue;
      queries++;
      if (queries === 1) {
        const value = Buffer.from(`value ${HOSTILE}`, 'utf8');
        s.write(
          Buffer.concat([
            msg('T', int16(1), cstr(`col${HOSTILE}`), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)),
            msg('D', int16(1), int32(value.length), value),
            msg('C', cstr(`SELECT 1${HOSTILE}`)),
            msg('Z', 'I'),
          ]),
        );
      } else {
        s.write(Buffer.concat([msg('E', cstr('SERROR'), cstr('VERROR'), cstr('CXX000'), cstr(`M${'boom'}${HOSTILE}`), Buffer.from([0])), msg('Z', 'I')]));
      }
    }
  });
}

before(async () => {
  fake = createServer(serve);
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  fakePort = (fake.address() as { port: number }).port;
});
after(async () => {
  await proxy?.stop();
  await compactProxy?.stop();
  await new Promise<void>((r) => fake.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** Every ESC in the text is one of the SGR sequences pgscope's colour style writes. */
function onlyOurEscapes(text: string): void {
  const stripped = text.replace(/\x1b\[(2|22|1;31|39;22|36|35|33|39)m/g, '');
  const bad = CONTROL.exec(stripped.replace(/\n/g, ''));
  assert.equal(bad, null, bad ? `a control character ${JSON.stringify(bad[0])} near ${JSON.stringify(stripped.slice(Math.max(0, bad.index - 60), bad.index + 20))}` : '');
}

describe('hostile strings from the wire', () => {
  it('reach no terminal as control characters: annotated log in colour, status lines, query log, summary; JSON lines stay exact', T, async () => {
    const queryLog = join(dir, 'queries.log');
    const jsonl = join(dir, 'trace.jsonl');
    proxy = await startPgscope(['--no-bw', '--server-host', '127.0.0.1', '--server-connect-port', String(fakePort), '--server-sslmode', 'disable', '--query-log', queryLog, '--jsonl', jsonl, '--summary', '--log-certs']);
    const c = await RawClient.connect(proxy.port);
    c.send(fe.sslRequest());
    assert.equal(await c.readByte(), 'S');
    await c.startTls({ servername: `db${HOSTILE_SNI}.example`, rejectUnauthorized: false });
    await c.startup({ user: 'u', database: 'd' });
    await c.roundTrip(fe.query(`select '${HOSTILE}' as "${HOSTILE}"`));
    await c.roundTrip(fe.query('select 2'));
    c.send(fe.terminate());
    await c.waitClosed();
    await proxy.waitFor(/connection end/);
    await waitUntil(() => readFileSync(queryLog, 'utf8').split('\n').length >= 3, 10_000, 'two query-log lines');
    await proxy.stop();

    const log = proxy.output();
    onlyOurEscapes(log);
    // pgscope's own colours are still there.
    assert.match(log, /\x1b\[33m/);
    // The hostile text is shown, escaped, where it came: SNI, value, tag, error, summary.
    const shown = '\\x1b[2J\\x1b]0;pwned\\x07\\r\\u009b31m\\u202eevil\\u2066x\\u2069';
    assert.ok(log.includes('server name via SNI: db\\x1b[2J\\x1b]0;pwned\\x07\\r.example'), 'SNI status line');
    assert.ok(log.includes(`text value ${shown}`), 'typed value');
    assert.ok(log.includes(`SELECT 1${shown}`), 'command tag');
    assert.ok(log.includes(`"boom\\x1b[2J`), 'error message, as bytes');
    // The summary quotes the statement's identifiers.
    const summary = log.slice(log.indexOf('pgscope summary'));
    assert.ok(summary.includes(`as "${shown}"`), 'summary');

    const ql = readFileSync(queryLog, 'utf8');
    assert.equal(CONTROL.exec(ql.replace(/\n/g, '')), null, 'query log');
    // (The query log puts an error message on one line: its CR became a space.)
    assert.ok(ql.includes(`SELECT 1${shown}`) && ql.includes('boom\\x1b[2J\\x1b]0;pwned\\x07 \\u009b31m\\u202eevil'), ql);

    const text = readFileSync(jsonl, 'utf8');
    assert.equal(CONTROL.exec(text.replace(/\n/g, '')), null, 'JSON lines hold escapes only');
    const objs = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const statuses = objs.filter((o) => o.type === 'status').map((o) => String(o.text));
    assert.ok(statuses.includes(`server name via SNI: db${HOSTILE_SNI}.example`), 'JSON keeps the exact text');
    const records = objs.filter((o) => o.type === 'statement');
    assert.equal(records[0]!.tag, `SELECT 1${HOSTILE}`);
    assert.equal((records[1]!.error as { message: string }).message, `boom${HOSTILE}`);
  });

  it('reach no terminal as control characters in the compact log either (--log-forwarded compact, colour on)', T, async () => {
    compactProxy = await startPgscope(['--no-bw', '--log-forwarded', 'compact', '--server-host', '127.0.0.1', '--server-connect-port', String(fakePort), '--server-sslmode', 'disable']);
    const c = await RawClient.connect(compactProxy.port);
    c.send(fe.sslRequest());
    assert.equal(await c.readByte(), 'S');
    await c.startTls({ servername: `db${HOSTILE_SNI}.example`, rejectUnauthorized: false });
    await c.startup({ user: `u${HOSTILE}`, database: 'd' });
    await c.roundTrip(fe.query(`select '${HOSTILE}' as "${HOSTILE}"`));
    await c.roundTrip(fe.query('select 2'));
    c.send(fe.terminate());
    await c.waitClosed();
    await compactProxy.waitFor(/connection end/);
    await compactProxy.stop();

    const log = compactProxy.output();
    onlyOurEscapes(log);
    const plain = log.replace(/\x1b\[(2|22|1;31|39;22|36|35|33|39)m/g, '');
    const shown = '\\x1b[2J\\x1b]0;pwned\\x07\\r\\u009b31m\\u202eevil\\u2066x\\u2069';
    const lines = plain.split('\n');
    const line = (start: string): string => lines.find((l) => l.startsWith(start)) ?? assert.fail(`no line starting ${start}:\n${plain}`);
    // One line each, the hostile text escaped where it came: startup, parameter, SQL, column, value, tag, error.
    assert.ok(line('#1  C StartupMessage ').includes(`user=u${shown}`));
    assert.equal(line('#1  S ParameterStatus '), `#1  S ParameterStatus server_version = 15.99 ${shown}`);
    // The SQL is quoted as JSON quotes strings: C0 controls as \u001b and the like.
    const json = '\\u001b[2J\\u001b]0;pwned\\u0007\\r\\u009b31m\\u202eevil\\u2066x\\u2069';
    assert.equal(line('#1  C Query '), `#1  C Query "select '${json}' as \\"${json}\\""`);
    assert.equal(line('#1  S RowDescription '), `#1  S RowDescription (col${shown} text)`);
    assert.equal(line('#1  S DataRow '), `#1  S DataRow ('value ${shown}')`);
    assert.equal(line('#1  S CommandComplete '), `#1  S CommandComplete SELECT 1${shown}`);
    assert.equal(line('#1  S ErrorResponse '), `#1  S ErrorResponse ERROR XX000 boom${shown}`);
    // The error line is red, whole.
    assert.ok(log.includes(`#1  \x1b[1;31mS ErrorResponse ERROR XX000 boom${shown}\x1b[39;22m`));
  });
});
