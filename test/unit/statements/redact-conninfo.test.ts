import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatementRecord } from '../../../src/session/events.js';
import { carriesPassword, redactRecord, redactSql } from '../../../src/analysis/statements/index.js';
import { connInfoCarriesPassword, redactConnInfo } from '../../../src/analysis/statements/redact.js';

describe('connection strings inside SQL constants', () => {
  it("reads SQL's doubled quotes before the connection string", () => {
    assert.equal(
      redactSql("CREATE SUBSCRIPTION s CONNECTION 'host=db password=''my secret''' PUBLICATION p"),
      "CREATE SUBSCRIPTION s CONNECTION 'host=db password=<redacted>' PUBLICATION p",
    );
    assert.equal(redactSql("CREATE SUBSCRIPTION s CONNECTION 'password=ab''cd dbname=x' PUBLICATION p"), "CREATE SUBSCRIPTION s CONNECTION 'password=<redacted> dbname=x' PUBLICATION p");
    assert.equal(redactSql("SELECT dblink_connect('host=x password = ''a\\'' b'' user=u')"), "SELECT dblink_connect('host=x password = <redacted> user=u')");
  });

  it('E strings, N strings and dollar quotes', () => {
    assert.equal(redactSql("SELECT dblink_connect(E'host=x password=\\'s e c\\\\\\' r\\' user=''u''')"), "SELECT dblink_connect('host=x password=<redacted> user=''u''')");
    assert.equal(redactSql("SELECT dblink_connect(N'password=abc')"), "SELECT dblink_connect('password=<redacted>')");
    assert.equal(redactSql('SELECT dblink_connect($c$host=x password=abc$c$)'), "SELECT dblink_connect('host=x password=<redacted>')");
  });

  it('URIs: the password of the user part and password parameters', () => {
    assert.equal(redactSql("SELECT dblink_connect('postgresql://alice:s3cret@db.example/app?sslmode=require')"), "SELECT dblink_connect('postgresql://alice:<redacted>@db.example/app?sslmode=require')");
    assert.equal(redactConnInfo('postgres://alice@db/app?password=x&sslpassword=y&user=u'), 'postgres://alice@db/app?password=<redacted>&sslpassword=<redacted>&user=u');
    assert.equal(redactConnInfo('postgresql://db/app'), 'postgresql://db/app');
    assert.equal(carriesPassword("SELECT dblink_connect('postgresql://alice:s3cret@db/app')"), true);
    assert.equal(carriesPassword("SELECT 'postgresql://alice@db/app'"), false);
  });

  it('a constant that does not parse as a connection string loses all its contents', () => {
    assert.equal(redactSql("SELECT f('the password=abc is here')"), `SELECT f('<redacted>')`);
    assert.equal(redactSql("SELECT f('host=x password=''abc')"), `SELECT f('<redacted>')`);
    assert.equal(redactSql("SELECT f('password=abc"), `SELECT f('<redacted>'`);
  });

  it('keyword = value parsing keeps everything else as it was', () => {
    assert.equal(redactConnInfo("  host = db  password='a b\\' c'   sslpassword=q  "), '  host = db  password=<redacted>   sslpassword=<redacted>  ');
    assert.equal(redactConnInfo('host=db'), 'host=db');
    assert.equal(redactConnInfo('host'), null);
    assert.equal(connInfoCarriesPassword('host=x PASSWORD =y'), true);
    assert.equal(connInfoCarriesPassword('postgresql://u:p@h'), true);
    assert.equal(connInfoCarriesPassword('host=x user=y'), false);
  });

  it('a record parameter that carries a password is redacted even when the SQL does not', () => {
    const r: StatementRecord = {
      conn: 1, start: 0, duration: 1, untilReady: 1, protocol: 'extended', sql: 'SELECT dblink_connect($1, $2)', statement: '', portal: '',
      params: [{ type: 'text', format: 'text', value: 'host=x password=secret' }, { type: 'text', format: 'text', value: 'plain' }],
      rows: null, tag: 'SELECT 1', affected: null, error: null,
    };
    assert.deepEqual(redactRecord(r).params.map((p) => p.value), ['<redacted>', 'plain']);
  });
});
