/**
 * `--log-forwarded compact` end to end: real psql through the real pgscope process to a
 * real PostgreSQL 15 server (TLS, MD5). One line per message (`#1  C Query "select 1/0"`,
 * `#1  S ErrorResponse ERROR 22012 division by zero`), values typed, no `^^` lines,
 * pgscope's own SSLRequest answer marked as its own; colour codes only when asked for
 * (FORCE_COLOR, --no-bw), the ErrorResponse line then whole in red; SQL carrying a password
 * hidden with --redact-passwords.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { assertInOrder, assertNone, connectionEnded, connLines, plainEnv, psqlOk, psqlVia, Scopes, spawnPgscope, type BarePgscope } from '../helpers/tls-e2e.js';

const T = { timeout: 120_000 };
const TLS = { sslmode: 'require' } as const; // MD5 server: no channel binding involved
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const strip = (s: string): string => s.replace(ANSI, '');

let server: PgServer;
const scopes = new Scopes();
const bare: BarePgscope[] = [];
const backend = (): string => `127.0.0.1:${server.port}`;

before(async () => {
  server = await startPgServer({ version: 15, ssl: true, auth: 'md5' });
});

afterEach(async () => {
  await scopes.stopAll();
  await Promise.all(bare.splice(0).map((b) => b.stop('SIGKILL')));
});

after(async () => {
  await scopes.stopAll();
  await server?.stop();
});

describe('--log-forwarded compact', () => {
  it('one line per message: the query, typed rows, the error with its SQLSTATE, the status; no ^^ lines', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--log-forwarded', 'compact', backend()]);
    const r = await psqlVia(server, p.port, 'select 1/0', { params: TLS });
    assert.notEqual(r.code, 0, 'psql reports the error');
    assert.match(r.stderr, /division by zero/);
    const one = connLines(await connectionEnded(p, 1), 1);
    assertInOrder(one, [
      /^#1 {2}C>P SSLRequest /,
      /^#1 {2}P>C SSLResponse willing to perform SSL$/,
      /^#1 {2}C StartupMessage user=postgres database=postgres /,
      /^#1 {2}S AuthenticationMD5Password /,
      /^#1 {2}C PasswordMessage MD5 password hash/,
      /^#1 {2}S AuthenticationOk /,
      /^#1 {2}S ReadyForQuery idle$/,
      /^#1 {2}C Query "select 1\/0"$/,
      /^#1 {2}S ErrorResponse ERROR 22012 division by zero$/,
      /^#1 {2}S ReadyForQuery idle$/,
      /^#1 {2}C Terminate$/,
      /^#1 {2}connection end$/,
    ]);
    assert.ok(one.includes('#1  C Query "select 1/0"'), one.join('\n'));
    assertNone(one, /\^\^|client -> server|server -> client/);
    assertNone(one, /^#1 {3}/, 'no continuation lines');

    const sql = "select 1 as id, 'teapot'::text as name, 24.50::numeric as price, true as in_stock, null::int as nothing";
    assert.equal(await psqlOk(server, p.port, sql, { params: TLS }), '1|teapot|24.50|t|');
    const two = connLines(await connectionEnded(p, 2), 2);
    assertInOrder(two, [
      new RegExp(`^#2 {2}C Query ${JSON.stringify(sql).replace(/[()|.*+?]/g, '\\$&')}$`),
      /^#2 {2}S RowDescription \(id int4, name text, price numeric, in_stock bool, nothing int4\)$/,
      /^#2 {2}S DataRow \(1, 'teapot', 24\.50, t(rue)?, NULL\)$/,
      /^#2 {2}S CommandComplete SELECT 1$/,
      /^#2 {2}S ReadyForQuery idle$/,
    ]);
    assert.equal(p.output().includes('\x1b'), false, 'no colour on a pipe');
  });

  const cases: { name: string; args: string[]; env: Record<string, string>; colour: boolean }[] = [
    { name: 'FORCE_COLOR=1', args: [], env: { FORCE_COLOR: '1' }, colour: true },
    { name: '--no-bw', args: ['--no-bw'], env: {}, colour: true },
    { name: 'a pipe, nothing asked', args: [], env: {}, colour: false },
    { name: '--bw (even with FORCE_COLOR=1)', args: ['--bw'], env: { FORCE_COLOR: '1' }, colour: false },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.colour ? 'coloured, the ErrorResponse line whole in red' : 'no escape codes'}`, T, async () => {
      const b = spawnPgscope(['-p', '0', '--client-cert-sig', 'ecdsa', '--log-forwarded', 'compact', ...c.args, backend()], plainEnv(c.env));
      bare.push(b);
      await b.waitFor(/listening on .*:\d+/);
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(strip(b.output()))![1]);
      await psqlVia(server, port, 'select 1/0', { params: TLS });
      await b.waitFor(/#1 .*connection end/);
      const out = b.output();
      const lines = out.split('\n');
      if (c.colour) {
        assert.ok(lines.includes('#1  \x1b[1;31mS ErrorResponse ERROR 22012 division by zero\x1b[39;22m'), out);
        assert.ok(lines.includes('#1  \x1b[36mC Query\x1b[39m "select 1/0"'), out);
        assert.ok(lines.includes('#1  \x1b[35mS ReadyForQuery\x1b[39m idle'), out);
      } else {
        assert.equal(out.includes('\x1b'), false, 'no escape character at all');
      }
      assert.ok(strip(out).split('\n').includes('#1  S ErrorResponse ERROR 22012 division by zero'));
    });
  }

  it('--redact-passwords: SQL that carries a password is not shown', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--log-forwarded', 'compact', '--redact-passwords', backend()]);
    const sql = `ALTER ROLE ${server.user.name} PASSWORD '${server.user.password}'`;
    await psqlOk(server, p.port, sql, { params: TLS });
    const lines = connLines(await connectionEnded(p, 1), 1);
    assert.ok(lines.some((l) => /^#1 {2}C Query "<redacted \d+ bytes>"$/.test(l)), lines.join('\n'));
    assert.ok(lines.includes('#1  S CommandComplete ALTER ROLE'));
    assert.equal(p.output().includes(server.user.password), false, 'the password appears nowhere');
  });
});
