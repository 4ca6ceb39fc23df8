/**
 * pgscope as a library, as a user gets it: `npm pack`, then `npm install` of the tarball
 * into a fresh project, then `import { startProxy } from 'pgscope'`, type-checked by the
 * TypeScript compiler against the package's own declarations and run against a real
 * PostgreSQL 15 server with psql through it: events arrive as JSON-lines objects, a hook
 * answers a query in the server's place with messages the package's codec encodes, and
 * close() stops everything.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { psqlBin, startPgServer, type PgServer } from '../helpers/pg-server.js';
import { run } from '../helpers/proc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const T = { timeout: 300_000 };
const dir = mkdtempSync(join(tmpdir(), 'pgscope-package-'));
let server: PgServer;

before(async () => {
  server = await startPgServer({ auth: 'trust' });
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The user's code: typed against the package's declarations, then run. */
const USER_CODE = `
import { execFile } from 'node:child_process';
import { codec, startProxy, type JsonlStatement, type JsonlConnection, type MessageHook } from 'pgscope';

// Messages made with the package's codec: typed fields in, protocol bytes out.
const errorResponse = (code: string, message: string): Buffer =>
  codec.errorResponse.encode({ fields: [{ type: 'S', value: 'ERROR' }, { type: 'V', value: 'ERROR' }, { type: 'C', value: code }, { type: 'M', value: message }] });
const ready: Buffer = codec.readyForQuery.encode({ status: 'I' });

// A hook: the query that says 'boom-marker' (read through the codec's typed fields) is
// answered by pgscope with a 40001.
const hook: MessageHook = {
  wants: (direction, type) => direction === 'frontend' && type === 'Q',
  decide: (v) => (codec.tryFields(codec.query, v.message)?.query.includes('boom-marker') ? { forward: [], reply: [errorResponse('40001', 'could not serialize access (injected)'), ready], note: 'test' } : null),
};

const proxy = await startProxy({ serverHost: '127.0.0.1', serverConnectPort: Number(process.env.PG_PORT), serverSslmode: 'disable', hook });
const statements: JsonlStatement[] = [];
const phases: string[] = [];
proxy.on('statement', (s) => statements.push(s));
proxy.on('connection', (c: JsonlConnection) => phases.push(c.phase));
// (The proxy runs in this process: the client must not block it, so no spawnSync.)
const psql = (sql: string) =>
  new Promise<{ stdout: string; stderr: string }>((resolve) =>
    execFile(process.env.PSQL!, ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-d', 'postgres', '-c', sql], { encoding: 'utf8', env: { ...process.env, PGSSLMODE: 'disable' } }, (_e, stdout, stderr) => resolve({ stdout, stderr })),
  );
const ok = await psql('select 40 + 2');
const failed = await psql("select 'boom-marker'");
await new Promise((r) => setTimeout(r, 200));
await proxy.close();
const port: number = proxy.port;
console.log(JSON.stringify({
  port,
  ok: ok.stdout.trim(),
  failed: failed.stderr.trim(),
  statements: statements.map((s) => ({ sql: s.sql, tag: s.tag, rows: s.rows, v: s.v, type: s.type, error: s.error?.code ?? null })),
  phases,
}));
`;

describe('the packed package', () => {
  it('installs into a fresh project; startProxy is typed and works against a real server', T, async () => {
    // 1. Pack as npm would publish it (dist is built by npm test before this runs).
    const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, timeoutMs: 120_000 });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, pack.stdout + pack.stderr);
    // 2. A user's project with the tarball installed (dependencies from the registry or npm's cache).
    const project = join(dir, 'project');
    rmSync(project, { recursive: true, force: true });
    await run('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', type: 'module', private: true }));
    const install = await run('npm', ['install', '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)], { cwd: project, timeoutMs: 240_000, allowFailure: true });
    assert.equal(install.code, 0, install.stdout + install.stderr);
    // 3. Typed: the user's code compiles against the installed declarations (strict).
    writeFileSync(join(project, 'main.mts'), USER_CODE);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', typeRoots: [join(ROOT, 'node_modules', '@types')], types: ['node'], skipLibCheck: false }, files: ['main.mts'] }),
    );
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, allowFailure: true, timeoutMs: 120_000 });
    assert.equal(tsc.code, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
    // A type error is caught: an event name that does not exist, a member that is not there.
    writeFileSync(join(project, 'wrong.mts'), `import { startProxy } from 'pgscope';\nconst p = await startProxy();\np.on('statement', (s) => s.notAField);\n`);
    const wrong = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node', join(project, 'wrong.mts')], { cwd: project, allowFailure: true });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stdout, /notAField/);
    // 4. Run: the compiled user code, against a real server.
    const r = await run(process.execPath, [join(project, 'out', 'main.mjs')], { cwd: project, env: { ...process.env, PG_PORT: String(server.port), PSQL: psqlBin() }, timeoutMs: 60_000, allowFailure: true });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { port: number; ok: string; failed: string; statements: { sql: string; tag: string | null; rows: number | null; v: number; type: string; error: string | null }[]; phases: string[] };
    assert.ok(got.port > 0);
    assert.equal(got.ok, '42');
    assert.match(got.failed, /could not serialize access \(injected\)/);
    assert.deepEqual(got.statements.find((s) => s.sql === 'select 40 + 2'), { sql: 'select 40 + 2', tag: 'SELECT 1', rows: 1, v: 1, type: 'statement', error: null });
    assert.deepEqual(got.statements.find((s) => s.sql.includes('boom-marker'))?.error, '40001');
    assert.ok(got.phases.includes('opened') && got.phases.includes('closed'), got.phases.join(','));
  });
});
