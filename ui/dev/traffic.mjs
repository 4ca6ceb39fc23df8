// Development aid: some traffic worth looking at in the inspector, through a pgscope.
//   node ui/dev/traffic.mjs "postgresql://postgres:PASSWORD@localhost:5499/demo?sslmode=require&channel_binding=disable"
// Simple and extended queries with parameters, an error, a slow statement, an N+1 loop in
// one transaction, and a pipeline (postgres.js sends concurrent queries without waiting).
import pg from 'pg';
import postgres from 'postgres';

const url = process.argv[2];
if (!url) throw new Error('usage: node ui/dev/traffic.mjs CONNECTION-URL');
const u = new URL(url);
const tls = u.searchParams.get('sslmode') === 'disable' ? false : { rejectUnauthorized: false };
const cfg = { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) || 'postgres' };
const c = new pg.Client({ ...cfg, application_name: 'dev-traffic', ssl: tls });
await c.connect();
await c.query('select 1 as one');
await c.query('select $1::int + 1 as two, $2::text as word, $3::timestamptz as at, $4::numeric as price', [1, 'teapot', new Date(), '24.50']);
await c.query('select 1/0').catch(() => {});
await c.query('select pg_sleep(0.3)');
await c.query('create temp table items (id int primary key, name text)');
await c.query("insert into items select g, 'item ' || g from generate_series(1, 50) g");
await c.query('begin');
const { rows } = await c.query('select id from items order by id limit 25');
for (const r of rows) await c.query('select name from items where id = $1', [r.id]);
await c.query('commit');
await c.end();
const sql = postgres({ ...cfg, max: 1, ssl: tls, connection: { application_name: 'dev-pipeline' } });
await Promise.all([sql`select 1 as a`, sql`select ${2}::int as b`, sql`select pg_sleep(0.05)`, sql`select 'x' || ${'y'} as c`]);
await sql.end();
console.log('traffic done');
