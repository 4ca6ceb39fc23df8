/**
 * decodeValue against a real PostgreSQL 15 server: for every supported type, the server
 * sends each value twice in one DataRow (Bind asks for column 1 in text format and
 * column 2 in binary), and
 *   - the binary bytes decode to exactly the text the server printed,
 *   - the server's text decodes to that same text,
 *   - both decodings give deep-equal values and the type name PostgreSQL uses,
 * with the column's type OID taken from RowDescription. Hand-picked edge cases come first,
 * then sweeps of random values that no table of expected results could cover.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeValue } from '../../src/protocol/values/index.js';
import { arrayByOid, scalarByOid } from '../../src/protocol/values/oids.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { errorFields, fe, PgError, RawClient, type BackendMessage } from '../helpers/raw-client.js';

const T = { timeout: 120_000 };

/** The session settings decodeValue's text assumes (see src/protocol/values/index.ts). */
const SESSION = { TimeZone: 'UTC', DateStyle: 'ISO', IntervalStyle: 'postgres', extra_float_digits: '1', bytea_output: 'hex', client_encoding: 'UTF8' };

interface Column {
  name: string;
  typeOid: number;
}

interface Result {
  columns: Column[];
  rows: (Buffer | null)[][];
}

function rowDescription(body: Buffer): Column[] {
  const n = body.readInt16BE(0);
  const out: Column[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    const end = body.indexOf(0, at);
    const name = body.subarray(at, end).toString('utf8');
    at = end + 1;
    out.push({ name, typeOid: body.readUInt32BE(at + 6) });
    at += 18;
  }
  return out;
}

function dataRow(body: Buffer): (Buffer | null)[] {
  const n = body.readInt16BE(0);
  const out: (Buffer | null)[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    const len = body.readInt32BE(at);
    at += 4;
    if (len < 0) out.push(null);
    else {
      out.push(body.subarray(at, at + len));
      at += len;
    }
  }
  return out;
}

/** Extended protocol: Parse, Bind with per-column result formats, Describe portal, Execute, Sync. */
async function query(c: RawClient, sql: string, resultFormats: number[]): Promise<Result> {
  const messages: BackendMessage[] = await c.roundTrip(fe.parse('', sql), fe.bind('', '', [], [], resultFormats), fe.describe('P', ''), fe.execute(''), fe.sync());
  const error = messages.find((m) => m.type === 'E');
  if (error) throw new PgError(errorFields(error.body));
  const t = messages.find((m) => m.type === 'T');
  assert.ok(t, `no RowDescription for ${sql}`);
  return { columns: rowDescription(t.body), rows: messages.filter((m) => m.type === 'D').map((m) => dataRow(m.body)) };
}

/** The same value twice, text then binary, from one evaluation (a volatile subquery is not pulled up). */
async function bothFormats(c: RawClient, from: string): Promise<{ typeOid: number; pairs: [Buffer, Buffer][] }> {
  const r = await query(c, `select v, v from (${from}) s(v)`, [0, 1]);
  assert.equal(r.columns.length, 2);
  const typeOid = r.columns[0]!.typeOid;
  const pairs = r.rows.map((row) => {
    assert.ok(row[0] && row[1], `a NULL came back for ${from}`);
    return [row[0], row[1]] as [Buffer, Buffer];
  });
  return { typeOid, pairs };
}

function check(what: string, typeOid: number, textBytes: Buffer, binaryBytes: Buffer, typeName: string): void {
  const serverText = textBytes.toString('utf8');
  const fromBinary = decodeValue(typeOid, 1, binaryBytes);
  const fromText = decodeValue(typeOid, 0, textBytes);
  const context = `${what}: type OID ${typeOid}, server printed ${JSON.stringify(serverText)}, binary ${binaryBytes.toString('hex')}`;
  assert.ok(fromBinary, `binary did not decode; ${context}`);
  assert.ok(fromText, `text did not decode; ${context}`);
  assert.equal(fromBinary.text, serverText, `binary decoded to other text; ${context}`);
  assert.equal(fromText.text, serverText, `text decoded to other text; ${context}`);
  assert.deepStrictEqual(fromBinary.value, fromText.value, `values differ; ${context}`);
  assert.equal(fromBinary.type, typeName, `type name; ${context}`);
  assert.equal(fromText.type, typeName, `type name; ${context}`);
}

/** Name decodeValue must report: pg_type.typname, or element typname + "[]" for arrays. */
async function typeNames(c: RawClient): Promise<Map<number, string>> {
  const r = await query(c, `select t.oid, coalesce(e.typname || '[]', t.typname) from pg_type t left join pg_type e on e.typarray = t.oid and t.typcategory = 'A'`, [0, 0]);
  return new Map(r.rows.map((row) => [Number(row[0]!.toString()), row[1]!.toString()]));
}

// [type, SQL expressions] — each expression is one value of that type.
const CASES: [string, string[]][] = [
  ['bool', ['true', 'false']],
  ['int2', ['42::int2', '(-32768)::int2', '32767::int2', '0::int2']],
  ['int4', ['0', '(-2147483648)::int4', '2147483647', '-7']],
  ['int8', ['9007199254740991::int8', '9007199254740993::int8', '(-9223372036854775808)::int8', '9223372036854775807::int8', '-12345::int8']],
  ['oid', ['4294967295::oid', '0::oid', '1259::oid']],
  ['float4', ["0.1::float4", "'-0'::float4", "'NaN'::float4", "'Infinity'::float4", "'-Infinity'::float4", '1e6::float4', '123456::float4', '999999::float4', '1.5e-5::float4', '0.0001::float4', '3.4028235e38::float4', '1.4e-45::float4', '1.17549435e-38::float4', '16777217::float4', '(1/3.0)::float4', '-2.5::float4']],
  [
    'float8',
    ['0.1::float8', "'-0'::float8", "'NaN'::float8", "'Infinity'::float8", "'-Infinity'::float8", '1e15::float8', '123456789012345::float8', '1e-5::float8', '0.0001::float8', '5e-324::float8', '1.7976931348623157e308::float8', '(1/3.0)::float8', '100::float8', '-1.5e300::float8', '2.2250738585072014e-308::float8', '9007199254740993::float8'],
  ],
  [
    'numeric',
    ["'-12345.678900'::numeric", '0::numeric', "'0.000'::numeric", "'NaN'::numeric", "'Infinity'::numeric", "'-Infinity'::numeric", '1e-20::numeric', '12345678901234567890.123::numeric', '10000::numeric', '0.0001::numeric', "'-0.5'::numeric", '1e100::numeric', "'123.456'::numeric(10,1)", "'99990000.00001'::numeric", "(1/3.0)::numeric", "'-0.000'::numeric"],
  ],
  ['text', ["'hello'::text", "''::text", "'ünïcödé ✓ 🐘'::text", "E'tab\\there\\nnewline'::text", "'NULL'::text"]],
  ['varchar', ["'abc'::varchar", "'x y'::varchar(10)"]],
  ['bpchar', ["'ab'::char(5)", "'z'::char"]],
  ['name', ["'pg_class'::name"]],
  ['char', [`'a'::"char"`, `'é'::"char"`, `''::"char"`]],
  ['bytea', ["'\\x00ff10'::bytea", "''::bytea", "'\\x5c22'::bytea", "convert_to('héllo', 'UTF8')"]],
  ['uuid', ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid", "'00000000-0000-0000-0000-000000000000'::uuid"]],
  ['date', ["'2024-02-29'::date", "'2000-01-01 BC'::date", "'0044-03-15 BC'::date", "'0099-01-01'::date", "'infinity'::date", "'-infinity'::date", "'4714-11-24 BC'::date", "'5874897-12-31'::date", "'1999-12-31'::date", "'0001-01-01'::date"]],
  ['time', ["'00:00:00'::time", "'23:59:59.999999'::time", "'24:00:00'::time", "'12:34:56.5'::time", "'01:02:03.000010'::time"]],
  ['timetz', ["'12:34:56+05:30'::timetz", "'01:02:03-08'::timetz", "'00:00:00+15:59'::timetz", "'10:00:00.25-03:25:45'::timetz", "'24:00:00+00'::timetz"]],
  [
    'timestamp',
    ["'2024-01-02 03:04:05.678'::timestamp", "'1999-12-31 23:59:59.999999'::timestamp", "'infinity'::timestamp", "'-infinity'::timestamp", "'0044-03-15 12:00:00 BC'::timestamp", "'294276-12-31 23:59:59.999999'::timestamp", "'4714-11-24 00:00:00 BC'::timestamp", "'2000-01-01'::timestamp", "'1970-01-01 00:00:00.000001'::timestamp"],
  ],
  ['timestamptz', ["'2024-06-01 12:00:00+02'::timestamptz", "'infinity'::timestamptz", "'-infinity'::timestamptz", "'0001-01-01 00:00:00+00 BC'::timestamptz", "'1900-02-28 23:59:59.5+00'::timestamptz", "'294276-12-31 23:59:59.999999+00'::timestamptz"]],
  [
    'interval',
    [
      "'1 year 2 mons -3 days 04:05:06.789'::interval",
      "'0'::interval",
      "'-1 year -2 mons'::interval",
      "'-00:00:00.5'::interval",
      "'1 day -00:00:01'::interval",
      "'-1 day +01:00'::interval",
      "'178000000 years'::interval",
      "'-2147483648 days'::interval",
      "'1 mon'::interval",
      "'1 year 1 day 00:00:01'::interval",
      "'-1 mons +3 days'::interval",
      "'25:00:00'::interval",
      "'-0.000001 seconds'::interval",
      "'-1 year +1 mon -1 day +00:00:01'::interval",
      "'2562047788:00:54.775807'::interval",
    ],
  ],
  ['json', [`'{"a": [1, 2.50, "x"]}'::json`, `'  "spaced"  '::json`]],
  ['jsonb', [`'{"b": 1, "a": [true, null, "ü"]}'::jsonb`, `'"str"'::jsonb`, `'12.50'::jsonb`]],
  ['xml', ["'<a>b &amp; c</a>'::xml"]],
  [
    'arrays',
    [
      'array[1,null,3]::int4[]',
      `'{"a b","c\\"d",NULL,"","NULL","x,y","{}","back\\\\slash"," lead"}'::text[]`,
      "'{}'::int4[]",
      "'[0:2]={1,2,3}'::int4[]",
      "'{{1,2},{3,4}}'::int4[]",
      "'[-1:0][2:3]={{1,2},{3,4}}'::int4[]",
      'array[true,false,null]',
      "array['\\x01'::bytea, ''::bytea]",
      "array['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid]",
      "array['infinity'::date, '0010-01-01 BC', '2024-01-01']",
      "array['2024-01-02 03:04:05+00'::timestamptz, 'infinity']",
      "array['2024-01-02 03:04:05'::timestamp, '-infinity']",
      "array['1 day -01:00'::interval, '0']",
      "array['NaN'::numeric, '-1.50', 'Infinity', 0]",
      "array['NaN'::float8, '-0', 1e300, 0.1]",
      "array['NaN'::float4, '-Infinity', 0.1]",
      'array[9007199254740993::int8, 1]',
      'array[1::int2, -1::int2]',
      `array['{"a": "b\\"c"}'::jsonb, 'null']`,
      `array['[1, 2]'::json]`,
      `array['a'::"char", 'é'::"char"]`,
      "array['pg_class'::name]",
      "array['x'::varchar, 'y z']",
      "array['ab'::char(3)]",
      'array[1::oid, 4294967295::oid]',
      "array['12:00'::time, '24:00']",
      "array['12:00+01'::timetz]",
      "array['<x/>'::xml]",
      "'{\"\",NULL,\"NULL\"}'::varchar[]",
    ],
  ],
];

describe('PostgreSQL 15: typed values decode to what the server prints, in text and binary', () => {
  let server: PgServer;
  let client: RawClient;
  let names: Map<number, string>;

  before(async () => {
    server = await startPgServer({ version: 15 });
    client = await RawClient.connect(server.port);
    await client.startup({ user: server.superuser, database: 'postgres', password: server.password, params: SESSION });
    names = await typeNames(client);
  }, T);
  after(async () => {
    await client?.terminate();
    await server?.stop();
  }, T);

  for (const [group, expressions] of CASES) {
    it(`${group}: ${expressions.length} values`, T, async () => {
      for (const expr of expressions) {
        const { typeOid, pairs } = await bothFormats(client, `select ${expr}`);
        assert.equal(pairs.length, 1);
        const name = names.get(typeOid);
        assert.ok(name, `type OID ${typeOid} of ${expr} is not in pg_type`);
        if (group !== 'arrays') assert.equal(name, group, `${expr} is of type ${name}`);
        check(expr, typeOid, pairs[0]![0], pairs[0]![1], name);
      }
    });
  }

  // Random values: each sweep is one query of many rows (a fresh seed each run; a failure
  // message shows the value, so it can be added to CASES above).
  const ROWS = 1000;
  const SWEEPS: [string, string][] = [
    ['float8 over 40 decades', `(random() - 0.5) * 10 ^ (floor(random() * 40) - 20)`],
    ['float8 near the top of the range', `(random() - 0.5) * 10 ^ (floor(random() * 16) + 292)`],
    ['float8 near the bottom of the normal range', `(random() - 0.5) * 10 ^ -(floor(random() * 7) + 300)`],
    ['float4 over 30 decades', `((random() - 0.5) * 10 ^ (floor(random() * 30) - 15))::float4`],
    ['float4 small integers and halves', `(floor(random() * 20000000) / 2)::float4`],
    ['float4 eighths, where two shortest decimals tie', `((floor(random() * 8000000) + 0.125 * floor(random() * 8)) * (case when random() < 0.5 then -1 else 1 end))::float4`],
    ['numeric with random scale', `round(((random() - 0.5) * 10 ^ (floor(random() * 30) - 10))::numeric, floor(random() * 12)::int)`],
    ['numeric with many digits', `(random() * 1e30)::numeric * (random() * 1e-25)::numeric`],
    ['date over the whole range', `'2000-01-01'::date + (floor(random() * (2145031948 + 2451545)) - 2451545)::int`],
    ['timestamp over the whole range', `'2000-01-01'::timestamp + (random() * 9435000000000 - 211813487000) * interval '1 second'`],
    ['timestamptz within µs around 2000', `'2000-01-01'::timestamptz + (random() - 0.5) * 1e9 * interval '1 second'`],
    ['time', `'00:00'::time + random() * interval '24 hours'`],
    ['timetz with zones', `timezone(make_interval(secs => floor(random() * 115081) - 57540), ('00:00'::time + random() * interval '24 hours')::timetz)`],
    ['interval with mixed signs', `make_interval(0, (random() * 400 - 200)::int, 0, (random() * 400 - 200)::int, 0, 0, (random() - 0.5) * 1e7)`],
    ['int8', `floor((random() - 0.5) * 1.8e19)::numeric::int8`],
    ['int4[] with NULLs', `array[(random() * 100)::int, case when random() < 0.3 then null else 1 end, -(random() * 1e9)::int]`],
    ['text[] with characters array_out quotes', `array[substr(' ,{}"\\\\ab' || chr(9) || 'NULL', (random() * 12)::int, (random() * 5)::int), md5(random()::text)]`],
  ];

  for (const [what, expr] of SWEEPS) {
    it(`${ROWS} random values: ${what}`, T, async () => {
      const from = `select ${expr} from generate_series(1, ${ROWS})`;
      const { typeOid, pairs } = await bothFormats(client, from);
      assert.equal(pairs.length, ROWS);
      const name = names.get(typeOid)!;
      for (const [text, binary] of pairs) check(what, typeOid, text, binary, name);
    });
  }

  it('every OID decodeValue knows names that type in pg_type, and its array type is pg_type.typarray', T, async () => {
    const r = await query(client, 'select oid, typname, typarray from pg_type', [0, 0, 0]);
    const server = new Map(r.rows.map((row) => [Number(row[0]!.toString()), { typname: row[1]!.toString(), typarray: Number(row[2]!.toString()) }]));
    for (const [oid, codec] of scalarByOid) {
      assert.equal(server.get(oid)?.typname, codec.name, `type OID ${oid}`);
    }
    for (const [arrayOid, { elementOid }] of arrayByOid) {
      assert.equal(server.get(elementOid)?.typarray, arrayOid, `array of type OID ${elementOid}`);
    }
  });
});
