/**
 * --redact-passwords end to end: real psql sessions through the real pgscope to a real
 * PostgreSQL 15 (TLS; pg_hba: pw_user → cleartext `password`, md5_user → `md5` with an
 * MD5-stored password, everyone else → scram-sha-256), with every output at once: the log
 * on stdout (annotated or raw), stderr, --jsonl, --query-log and --pcap.
 *
 * The server's password is one distinctive string, and an `ALTER ROLE … PASSWORD '…'`
 * statement carries a second one. With --redact-passwords neither appears anywhere — not
 * as text, not as hex (JSON raw bytes), not as base64 — in any output, and no MD5 password
 * hash (`md5` + 32 hex digits) does either. Each redacted run has a twin without the flag
 * that must show them, so that the absence checks can fail.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUTH_USERS, startAuthServer } from '../helpers/auth-users.js';
import type { PgServer } from '../helpers/pg-server.js';
import { psqlOk, Scopes } from '../helpers/tls-e2e.js';

const T = { timeout: 90_000 };
/** The password of every role on the server (the one a client sends). */
const SECRET = 'Sekr1t-Redact-Me-42';
/** The password literal in an ALTER ROLE statement. */
const ALTER_SECRET = 'Alter-Lit-Secret-77';
const ALTER_SQL = `ALTER ROLE alter_target PASSWORD '${ALTER_SECRET}'`;
const MD5_HASH = /md5[0-9a-f]{32}/;
/** psql over TLS to pgscope without channel binding (which a man in the middle breaks). */
const TLS = { sslmode: 'require', channel_binding: 'disable', gssencmode: 'disable' } as const;

let server: PgServer;
let dir: string;
const scopes = new Scopes();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-redaction-'));
  server = await startAuthServer({ version: 15, ssl: true, password: SECRET });
  await server.psql('CREATE ROLE alter_target LOGIN', [], { host: server.socketDir });
});

after(async () => {
  await scopes.stopAll();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Outputs {
  stdout: string;
  stderr: string;
  jsonl: string;
  queryLog: string;
  /** The pcapng file's bytes as latin1 text, for searching. */
  pcap: string;
}

let runs = 0;

/**
 * pgscope with these arguments and all three output files; psql as pw_user (cleartext),
 * md5_user (MD5) and postgres (SCRAM, running the ALTER ROLE). Stops pgscope (so the files
 * are complete) and returns every output.
 */
async function session(args: string[]): Promise<Outputs> {
  const d = join(dir, `run-${++runs}`);
  const files = { jsonl: `${d}.jsonl`, queryLog: `${d}.log`, pcap: `${d}.pcapng` };
  const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--jsonl', files.jsonl, '--query-log', files.queryLog, '--pcap', files.pcap, ...args, `127.0.0.1:${server.port}`]);
  assert.equal(await psqlOk(server, p.port, 'SELECT current_user', { user: AUTH_USERS.password, params: TLS }), AUTH_USERS.password);
  assert.equal(await psqlOk(server, p.port, 'SELECT current_user', { user: AUTH_USERS.md5, params: TLS }), AUTH_USERS.md5);
  assert.equal(await psqlOk(server, p.port, ALTER_SQL, { params: TLS }), '');
  await p.waitFor(/^#3  connection end$/);
  assert.equal(await p.stop(), 0, 'pgscope exits 0 on SIGTERM');
  return { stdout: p.output(), stderr: p.stderr(), jsonl: readFileSync(files.jsonl, 'utf8'), queryLog: readFileSync(files.queryLog, 'utf8'), pcap: readFileSync(files.pcap).toString('latin1') };
}

/** The forms a secret could take in an output: as is, hex (JSON raw bytes, either case), base64. */
function forms(secret: string): string[] {
  const hex = Buffer.from(secret).toString('hex');
  return [secret, hex, hex.toUpperCase(), Buffer.from(secret).toString('base64').replace(/=+$/, '')];
}

function assertAbsent(o: Outputs, what: string): void {
  for (const [name, text] of Object.entries(o)) {
    for (const s of [SECRET, ALTER_SECRET]) {
      for (const f of forms(s)) assert.ok(!text.includes(f), `${what}: ${name} contains ${JSON.stringify(f)} (a form of ${JSON.stringify(s)})`);
    }
    assert.doesNotMatch(text, MD5_HASH, `${what}: ${name} contains an MD5 password hash`);
  }
}

describe('--redact-passwords, annotated log (the default)', () => {
  let redacted: Outputs;
  let plain: Outputs;
  before(async () => {
    redacted = await session(['--redact-passwords']);
    plain = await session([]);
  });

  it('without it (control): the password, the MD5 hash and the ALTER ROLE literal are in the outputs', T, () => {
    assert.ok(plain.stdout.includes(`"${SECRET}\\x00" = cleartext password`), 'the cleartext PasswordMessage is annotated with the password');
    assert.match(plain.stdout, new RegExp(`"${MD5_HASH.source}\\\\x00" = `), 'the MD5 PasswordMessage shows the hash');
    assert.ok(plain.stdout.includes(ALTER_SECRET), 'the ALTER ROLE query is shown');
    assert.ok(plain.jsonl.includes(SECRET) || plain.jsonl.includes(Buffer.from(SECRET).toString('hex')), 'jsonl has the password');
    assert.match(plain.jsonl, MD5_HASH);
    assert.ok(plain.queryLog.includes(ALTER_SECRET), 'the query log has the ALTER ROLE literal');
    assert.ok(plain.pcap.includes(SECRET), 'the pcap has the PasswordMessage bytes');
    assert.match(plain.pcap, MD5_HASH);
    assert.ok(plain.pcap.includes(ALTER_SECRET));
  });

  it('with it: neither secret nor any MD5 hash appears in stdout, stderr, --jsonl, --query-log or --pcap', T, () => {
    assertAbsent(redacted, 'annotated, --redact-passwords');
  });

  it('says so at start, and shows the secret fields as "<redacted N bytes>"', T, () => {
    assert.match(redacted.stdout, /^--redact-passwords: passwords and MD5 hashes are redacted in every output$/m);
    const len = SECRET.length;
    assert.ok(redacted.stdout.includes(`client -> server: "p" = PasswordMessage "\\x00\\x00\\x00\\x18" = 24 bytes "<redacted ${len + 1} bytes>" = cleartext password`), 'cleartext password redacted');
    // md5 + 32 hex digits + the terminating NUL = 36 bytes (the span is the whole String).
    assert.match(redacted.stdout, /client -> server: "p" = PasswordMessage .* "<redacted 36 bytes>" = /);
    // SCRAM is not secret: the nonce and proof of the postgres connection stay visible.
    assert.match(redacted.stdout, /"r=[A-Za-z0-9+/]+" = SCRAM nonce/);
    assert.match(redacted.stdout, /"p=[A-Za-z0-9+/]+=*" = SCRAM client proof/);
  });

  it('the ALTER ROLE statement: the query log and jsonl statement record keep the SQL with the literal replaced; the log hides the query', T, () => {
    const line = redacted.queryLog.split('\n').find((l) => /ALTER ROLE/.test(l));
    assert.ok(line, `no ALTER ROLE line in the query log:\n${redacted.queryLog}`);
    assert.match(line, /ALTER ROLE \| ALTER ROLE alter_target PASSWORD '<redacted>'$/);
    const stmt = redacted.jsonl
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; sql?: string })
      .find((e) => e.type === 'statement' && /ALTER ROLE/.test(e.sql ?? ''));
    assert.equal(stmt?.sql, "ALTER ROLE alter_target PASSWORD '<redacted>'");
    assert.match(redacted.stdout, /client -> server: "Q" = Query .* "<redacted \d+ bytes>" = query \(redacted\)/);
  });
});

describe('--redact-passwords, --log-forwarded raw', () => {
  let redacted: Outputs;
  let plain: Outputs;
  before(async () => {
    redacted = await session(['--log-forwarded', 'raw', '--redact-passwords']);
    plain = await session(['--log-forwarded', 'raw']);
  });

  it('without it (control): the raw PasswordMessage bytes show the password and the MD5 hash', T, () => {
    assert.ok(plain.stdout.includes(SECRET));
    assert.match(plain.stdout, MD5_HASH);
    assert.ok(plain.stdout.includes(ALTER_SECRET));
  });

  it('with it: every client "p" message is "p" + <redacted N bytes>, and no secret appears in any output', T, () => {
    assertAbsent(redacted, 'raw, --redact-passwords');
    const pLines = redacted.stdout.split('\n').filter((l) => /client -> server: "p"/.test(l));
    // Cleartext, MD5, and SCRAM's SASLInitialResponse + SASLResponse.
    assert.equal(pLines.length, 4, pLines.join('\n'));
    for (const l of pLines) assert.match(l, /client -> server: "p" \+ <redacted \d+ bytes>$/);
    assert.ok(redacted.stdout.includes(`"p" + <redacted ${4 + SECRET.length + 1} bytes>`), 'the cleartext PasswordMessage: length + password + NUL');
    assert.ok(redacted.stdout.includes('"p" + <redacted 40 bytes>'), 'the MD5 PasswordMessage: length + 35 + NUL');
  });
});

describe('--redact-passwords with --override-auth (cleartext from the client; SCRAM, MD5 and cleartext to the server)', () => {
  let redacted: Outputs;
  let redactedRaw: Outputs;
  let plain: Outputs;
  before(async () => {
    redacted = await session(['--override-auth', '--redact-passwords']);
    redactedRaw = await session(['--override-auth', '--redact-passwords', '--log-forwarded', 'raw']);
    plain = await session(['--override-auth']);
  });

  it('without it (control): the client\'s cleartext password and pgscope\'s MD5 hash are shown', T, () => {
    assert.ok(plain.stdout.includes(`client -> script: "p" = PasswordMessage "\\x00\\x00\\x00\\x18" = 24 bytes "${SECRET}\\x00" = cleartext password`));
    assert.match(plain.stdout, new RegExp(`script -> server: "p" = PasswordMessage .*"${MD5_HASH.source}\\\\x00"`));
    assert.match(plain.stdout, new RegExp(`script -> server: "p" = PasswordMessage .*"${SECRET}\\\\x00"`));
  });

  it('with it: no secret in any output; pgscope\'s SCRAM exchange stays visible', T, () => {
    assertAbsent(redacted, '--override-auth --redact-passwords');
    assert.ok(redacted.stdout.includes(`client -> script: "p" = PasswordMessage "\\x00\\x00\\x00\\x18" = 24 bytes "<redacted ${SECRET.length + 1} bytes>" = cleartext password`));
    assert.match(redacted.stdout, /script -> server: "p" = PasswordMessage .*"<redacted 36 bytes>"/);
    assert.match(redacted.stdout, /authenticated to the server with SCRAM-SHA-256-PLUS \(--override-auth\)/);
    assert.match(redacted.stdout, /"p=tls-server-end-point," = GS2 flag 'p'/);
    assert.match(redacted.stdout, /"p=[A-Za-z0-9+/]+=*" = SCRAM client proof/);
    assert.match(redacted.stdout, /authenticated to the server with MD5 \(--override-auth\)/);
    assert.match(redacted.stdout, /authenticated to the server with cleartext password \(--override-auth\)/);
  });

  it('with it and --log-forwarded raw: pgscope\'s own messages are annotated (they are not forwarded), still redacted', T, () => {
    assertAbsent(redactedRaw, '--override-auth --redact-passwords --log-forwarded raw');
    assert.ok(redactedRaw.stdout.includes(`client -> script: "p" = PasswordMessage "\\x00\\x00\\x00\\x18" = 24 bytes "<redacted ${SECRET.length + 1} bytes>" = cleartext password`));
    assert.match(redactedRaw.stdout, /script -> server: "p" = PasswordMessage .*"<redacted 36 bytes>"/);
    assert.match(redactedRaw.stdout, /client -> server: "Q" \+ <redacted \d+ bytes>$/m);
  });
});
