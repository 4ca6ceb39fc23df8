import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carriesPassword, isEmptySql, normaliseSql, redactRecord, redactSql, splitStatements } from '../../../src/analysis/statements/index.js';
import type { StatementRecord } from '../../../src/session/events.js';

describe('splitStatements', () => {
  it('splits at top-level semicolons only', () => {
    assert.deepEqual(splitStatements("SELECT 'a;b'; SELECT $$x;y$$ ;; -- c;d\nSELECT \"q;\" /* e;f */"), ["SELECT 'a;b'", 'SELECT $$x;y$$', '-- c;d\nSELECT "q;" /* e;f */']);
    assert.deepEqual(splitStatements('CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)); SELECT 1'), [
      'CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))',
      'SELECT 1',
    ]);
    assert.deepEqual(splitStatements("SELECT E'it\\'s;'; SELECT 2"), ["SELECT E'it\\'s;'", 'SELECT 2']);
  });

  it('does not split a text with BEGIN ATOMIC, and finds no statement in blanks', () => {
    const f = 'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END';
    assert.deepEqual(splitStatements(f), [f]);
    assert.deepEqual(splitStatements(' ; -- nothing\n'), []);
    assert.equal(isEmptySql(' ; /* x */ '), true);
    assert.equal(isEmptySql('SELECT'), false);
  });
});

describe('normaliseSql', () => {
  it('replaces literals of every kind, keeps parameters, NULL and the case of keywords', () => {
    assert.equal(
      normaliseSql("select *  from t\n where a = 'x''y' AND b = E'\\n' AND c = $tag$ab$tag$ AND d = 1.5e3 AND e = TRUE AND f IS NULL AND g = $1 AND h = -42;"),
      'select * from t where a = ? AND b = ? AND c = ? AND d = ? AND e = ? AND f IS NULL AND g = $1 AND h = ?',
    );
  });

  it('folds the sign of a negative constant into it, but keeps a subtraction', () => {
    assert.equal(normaliseSql('SELECT abs(-7)'), normaliseSql('SELECT abs(7)'));
    assert.equal(normaliseSql('UPDATE a SET b = b + -484 WHERE id = 1'), 'UPDATE a SET b = b + ? WHERE id = ?');
    assert.equal(normaliseSql('SELECT * FROM t WHERE id IN (1, -2, 3)'), 'SELECT * FROM t WHERE id IN (...)');
    assert.equal(normaliseSql('SELECT x - 3 FROM t'), 'SELECT x - ? FROM t');
    assert.equal(normaliseSql('SELECT (x) - 3, $1 - 1 FROM t'), 'SELECT (x) - ?, $1 - ? FROM t');
  });

  it('collapses IN lists and ARRAY constructors of constants, drops comments', () => {
    assert.equal(normaliseSql('SELECT * FROM t WHERE id IN (1, 2, 3) /* app=x */'), 'SELECT * FROM t WHERE id IN (...)');
    assert.equal(normaliseSql('SELECT * FROM t WHERE id IN ($1,$2)'), normaliseSql('SELECT * FROM t WHERE id IN ($1, $2, $3, $4)'));
    assert.equal(normaliseSql("SELECT ARRAY['a', 'b']::text[]"), 'SELECT ARRAY[...]::text[]');
    // A subquery is not a list of constants.
    assert.equal(normaliseSql('SELECT 1 WHERE x IN (SELECT 1)'), 'SELECT ? WHERE x IN (SELECT ?)');
    assert.equal(normaliseSql("SELECT x::int4 FROM \"T 1\" -- trailing\n"), 'SELECT x::int4 FROM "T 1"');
  });

  it('groups statements that differ only in constants and spacing', () => {
    assert.equal(normaliseSql("UPDATE t SET v = 'a' WHERE id = 1"), normaliseSql("UPDATE   t SET v = 'bbb'\nWHERE id = 22"));
    assert.notEqual(normaliseSql('SELECT a FROM t'), normaliseSql('SELECT b FROM t'));
  });
});

describe('password redaction', () => {
  it('replaces the literal after PASSWORD and a password= in a connection string', () => {
    assert.equal(redactSql("ALTER ROLE bob WITH PASSWORD 'hunter2' VALID UNTIL '2030-01-01'"), "ALTER ROLE bob WITH PASSWORD '<redacted>' VALID UNTIL '2030-01-01'");
    assert.equal(redactSql("create user x encrypted password E'a\\'b'"), "create user x encrypted password '<redacted>'");
    assert.equal(redactSql("ALTER USER \"bob\" PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'"), "ALTER USER \"bob\" PASSWORD '<redacted>'");
    assert.equal(redactSql("CREATE SUBSCRIPTION s CONNECTION 'host=db password=sekrit dbname=x' PUBLICATION p"), "CREATE SUBSCRIPTION s CONNECTION 'host=db password=<redacted> dbname=x' PUBLICATION p");
    assert.equal(redactSql("CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'pw')"), "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password '<redacted>')");
  });

  it('leaves other SQL alone, including a column named password compared to a parameter', () => {
    const sql = "SELECT 'PASSWORD' AS word, 1";
    assert.equal(redactSql(sql), sql);
    assert.equal(carriesPassword(sql), false);
    assert.equal(carriesPassword('SELECT * FROM users WHERE password = $1'), true);
  });

  it('redacts a record: the SQL and every non-NULL parameter', () => {
    const r: StatementRecord = {
      conn: 1, start: 0, duration: 1, untilReady: 1, protocol: 'extended', sql: 'ALTER ROLE bob PASSWORD $1', statement: '', portal: '',
      params: [{ type: 'text', format: 'text', value: "'x'" }, { type: null, format: 'text', value: null }],
      rows: null, tag: 'ALTER ROLE', affected: null, error: null,
    };
    assert.deepEqual(redactRecord(r).params.map((p) => p.value), ['<redacted>', null]);
    const plain = { ...r, sql: 'SELECT $1' };
    assert.equal(redactRecord(plain), plain);
  });
});
