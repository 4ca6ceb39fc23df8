import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotate, decodeOne } from '../../helpers/decode.js';
import { cstr, int32, startupMessage, startupPacket } from '../../helpers/wire.js';
import { assertError, decodeAt, findSpans, lines, raw, span } from './support.js';

const one = (b: Buffer) => decodeOne('frontend', b, {}, 'startup');
const text = (b: Buffer) => annotate('frontend', b, {}, 'startup');

describe('SSLRequest', () => {
  it('decodes the request code', () => {
    const b = startupPacket(int32(80877103));
    assert.equal(text(b), lines(raw`"\x00\x00\x00\x08" = 8 bytes "\x04\xd2\x16/" = SSL request code (1234/5679): asks the server to switch to TLS`));
    const m = one(b);
    assert.equal(m.name, 'SSLRequest');
    assert.equal(m.error, undefined);
    assert.equal(span(m, 'SSL request code').value, 80877103);
  });

  it('bytes after the code are trailing-bytes', () => {
    assertError(decodeAt(startupPacket(int32(80877103), [0, 0]), 0, {}, 'startup'), 'trailing-bytes', 8, 8);
  });
});

describe('GSSENCRequest', () => {
  it('decodes the request code', () => {
    const b = startupPacket(int32(80877104));
    assert.equal(text(b), lines(raw`"\x00\x00\x00\x08" = 8 bytes "\x04\xd2\x160" = GSSAPI encryption request code (1234/5680): the client asks for GSSAPI encryption`));
    assert.equal(one(b).name, 'GSSENCRequest');
  });

  it('bytes after the code are trailing-bytes', () => {
    assertError(one(startupPacket(int32(80877104), [1])), 'trailing-bytes', 8, 8);
  });
});

describe('CancelRequest', () => {
  it('a 4-byte key: protocol 3.0', () => {
    const b = startupPacket(int32(80877102), int32(4242), [1, 2, 3, 4]);
    assert.equal(
      text(b),
      lines(
        raw`"\x00\x00\x00\x10" = 16 bytes "\x04\xd2\x16." = cancel request code (1234/5678): cancel the query running in another session`,
        raw`  "\x00\x00\x10\x92" = process ID: 4242`,
        raw`  "\x01\x02\x03\x04" = secret key: 4 bytes (the fixed length of protocol 3.0; also allowed in 3.2)`,
      ),
    );
    const m = one(b);
    assert.equal(m.name, 'CancelRequest');
    assert.equal(span(m, 'process ID').value, 4242);
    assert.deepEqual(span(m, 'secret key').value, Buffer.from([1, 2, 3, 4]));
  });

  it('a 32-byte key: protocol 3.2', () => {
    const key = Buffer.alloc(32, 0xab);
    const b = startupPacket(int32(80877102), int32(4242), key);
    assert.equal(
      text(b),
      lines(
        raw`"\x00\x00\x00," = 44 bytes "\x04\xd2\x16." = cancel request code (1234/5678): cancel the query running in another session`,
        raw`  "\x00\x00\x10\x92" = process ID: 4242`,
        raw`  "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab" = secret key: 32 bytes (a variable-length key: protocol 3.2 or later)`,
      ),
    );
    const s = span(one(b), 'secret key');
    assert.deepEqual(s.value, key);
    assert.deepEqual([s.start, s.end], [12, 44]);
  });

  it('accepts the 256-byte maximum', () => {
    const m = one(startupPacket(int32(80877102), int32(1), Buffer.alloc(256, 1)));
    assert.equal(m.error, undefined);
    assert.equal(span(m, 'secret key').meaning, 'secret key: 256 bytes (a variable-length key: protocol 3.2 or later)');
  });

  it('a key longer than 256 bytes is bad-value', () => {
    assertError(one(startupPacket(int32(80877102), int32(1), Buffer.alloc(257, 1))), 'bad-value', 12, 12);
  });

  it('a key shorter than 4 bytes is bad-value', () => {
    assertError(one(startupPacket(int32(80877102), int32(1), [1, 2])), 'bad-value', 12, 12);
  });

  it('a process ID cut short is past-end', () => {
    assertError(decodeAt(startupPacket(int32(80877102), [0, 0]), 64, {}, 'startup'), 'past-end', 72, 8);
  });
});

describe('StartupMessage', () => {
  it('decodes protocol 3.0 and its parameters, returning them as a record', () => {
    const b = startupMessage({ user: 'alice', database: 'db', application_name: 'psql' });
    assert.equal(
      text(b),
      lines(
        raw`"\x00\x00\x006" = 54 bytes "\x00\x03\x00\x00" = protocol 3.0`,
        raw`  parameters:`,
        raw`    "user\x00" = user: the database user name to connect as "alice\x00" = user value`,
        raw`    "database\x00" = database: the database to connect to (defaults to the user name) "db\x00" = database value`,
        raw`    "application_name\x00" = run-time parameter application_name, set at backend start "psql\x00" = application_name value`,
        raw`    "\x00" = end of parameters`,
      ),
    );
    const m = one(b);
    assert.equal(m.name, 'StartupMessage');
    assert.equal(span(m, 'protocol version').value, 196608);
    assert.deepEqual(m.spans.find((s) => s.name === 'parameters')!.value, { user: 'alice', database: 'db', application_name: 'psql' });
  });

  it('explains protocol 3.2, _pq_. options and a physical walsender', () => {
    const b = startupMessage({ user: 'rep', replication: 'true', '_pq_.protocol_managed_params': 'on', options: '-c work_mem=64MB' }, 2);
    assert.equal(
      text(b),
      lines(
        raw`"\x00\x00\x00\\" = 92 bytes "\x00\x03\x00\x02" = protocol 3.2 (PostgreSQL 18+)`,
        raw`  parameters:`,
        raw`    "user\x00" = user: the database user name to connect as "rep\x00" = user value`,
        raw`    "replication\x00" = replication: connect to a walsender (streaming replication mode) "true\x00" = walsender for physical replication`,
        raw`    "_pq_.protocol_managed_params\x00" = protocol option protocol_managed_params (_pq_. prefix: a protocol extension, not a run-time parameter) "on\x00" = value of protocol option protocol_managed_params`,
        raw`    "options\x00" = options: command-line arguments for the backend (deprecated) "-c work_mem=64MB\x00" = options value`,
        raw`    "\x00" = end of parameters`,
      ),
    );
  });

  it('reads the replication parameter like the server reads booleans, and database as logical', () => {
    const meaning = (v: string) => {
      const values = findSpans(one(startupMessage({ user: 'u', replication: v })).spans, 'value');
      return values[1]!.meaning;
    };
    for (const v of ['true', 'on', 'yes', '1', 'TRUE', 't', 'y']) assert.equal(meaning(v), 'walsender for physical replication', v);
    for (const v of ['false', 'off', 'no', '0', 'f', 'of']) assert.equal(meaning(v), 'a normal backend, not a walsender', v);
    assert.equal(meaning('database'), 'walsender for logical replication, connected to the database');
    assert.equal(meaning('Database'), 'walsender for logical replication, connected to the database');
    for (const v of ['o', 'maybe', '']) assert.equal(meaning(v), 'not a replication value (true, false or database): the server rejects it', v);
  });

  it('names protocol 3.1 as reserved and later minors as needing negotiation', () => {
    assert.equal(span(one(startupMessage({ user: 'u' }, 1)), 'protocol version').meaning, 'protocol 3.1 (reserved: no PostgreSQL version uses it)');
    assert.match(span(one(startupMessage({ user: 'u' }, 9)), 'protocol version').meaning!, /protocol 3\.9 \(newer than 3\.2/);
  });

  it('a missing final zero byte is past-end', () => {
    const b = startupPacket(int32(196608), cstr('user'), cstr('alice'));
    assertError(one(b), 'past-end', b.length);
  });

  it('a value without terminator is past-end, the rest unparsed', () => {
    const b = startupPacket(int32(196608), cstr('user'), 'alice');
    assertError(decodeAt(b, 1000, {}, 'startup'), 'past-end', 1013, 13);
  });

  it('bytes after the terminating zero are trailing-bytes', () => {
    const b = startupPacket(int32(196608), cstr('user'), cstr('u'), [0], 'xy');
    assertError(one(b), 'trailing-bytes', 16, 16);
  });

  it('an unknown code is bad-value', () => {
    const m = one(startupPacket(int32(0x00020000)));
    assert.equal(m.name, 'unknown startup packet');
    assertError(m, 'bad-value', 8);
  });
});
