import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OutputTarget } from '../../../src/output/output-target.js';
import { PcapngSink } from '../../../src/output/pcapng/index.js';
import { valueOf } from '../../../src/protocol/conversation.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import type { ProxyEvent } from '../../../src/session/events.js';
import { loadFixtures, type Fixture } from '../../helpers/fixtures.js';
import { fixtureEvents } from './fixture-events.js';
import { tsharkFields } from './tshark.js';

// Wireshark's own PostgreSQL dissector, with no settings, reads what PcapngSink writes.

const dir = mkdtempSync(join(tmpdir(), 'pgscope-pcapng-tshark-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fixtures = loadFixtures();
function fixture(name: string): Fixture {
  const f = fixtures.find((x) => x.name === name);
  assert.ok(f, `fixture ${name}`);
  return f;
}

const T0 = 1_700_000_000_000.25;

/** Several conversations' events merged in time order, as the proxy would deliver them. */
function capture(file: string, redact: boolean, runs: ProxyEvent[][]): void {
  const f = OutputTarget.openPath('--pcap', file, false, { unit: 'block', warn: (t) => assert.fail(t) });
  const sink = new PcapngSink({ write: (b, n) => f.write(b, n), end: () => f.close() }, { redact });
  const all = runs.flat().sort((a, b) => a.time - b.time); // stable: codec before wire stays
  for (const ev of all) sink.write(ev);
  sink.close();
}

/** The string values of one kind of message's field, in order. */
function values(messages: DecodedMessage[], type: string, field: string): string[] {
  return messages.filter((m) => m.frame.type === type).map((m) => String(valueOf(m.spans, field)));
}

test('tshark decodes the queries and the answers of real sessions, the servers shown on port 5432', () => {
  const file = join(dir, 'sessions.pcapng');
  const simple = fixtureEvents(fixture('psql-scram-simple-queries'), 1, T0, { address: '127.0.0.1', port: 50001 }, { address: '127.0.0.1', port: 46625 });
  const extended = fixtureEvents(fixture('pg-extended-query'), 2, T0 + 0.5, { address: '::1', port: 50002 }, { address: '::1', port: 6543 });
  capture(file, false, [simple.events, extended.events]);

  const fields = ['tcp.stream', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'frame.comment', 'ipv6.dst', 'pgsql.type', 'pgsql.query', 'pgsql.tag'];
  const all = tsharkFields(file, null, fields);
  const pkts = all.filter((p) => p['pgsql.type']);
  assert.ok(pkts.length > 0, 'tshark found PostgreSQL packets');
  for (const p of all) {
    assert.ok(p['tcp.srcport']?.[0] === '5432' || p['tcp.dstport']?.[0] === '5432', 'every packet to or from port 5432');
  }

  const stream = (n: string, f: string): string[] => pkts.filter((p) => p['tcp.stream']?.[0] === n).flatMap((p) => p[f] ?? []);
  // Every query the clients sent, and every command tag the servers answered, in order.
  assert.deepEqual(stream('0', 'pgsql.query'), values(simple.messages, 'Q', 'query'));
  assert.deepEqual(stream('0', 'pgsql.tag'), values(simple.messages, 'C', 'command tag'));
  assert.deepEqual(stream('1', 'pgsql.query'), values(extended.messages, 'P', 'query string'));
  assert.deepEqual(stream('1', 'pgsql.tag'), values(extended.messages, 'C', 'command tag'));
  assert.ok(stream('0', 'pgsql.query').includes("SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 3) AS g"));
  const types = new Set(pkts.flatMap((p) => p['pgsql.type'] ?? []));
  for (const t of ['Startup message', 'Simple query', 'Row description', 'Data row', 'Command completion', 'Ready for query', 'Error', 'Parse', 'Bind', 'Termination']) {
    assert.ok(types.has(t), `tshark saw a "${t}"`);
  }

  // The real server ports are in the SYNs' comments.
  const syns = all.filter((p) => p['tcp.flags.syn']?.[0] === '1' && p['tcp.flags.ack']?.[0] === '0');
  assert.equal(syns.length, 2);
  assert.match(syns[0]!['frame.comment']![0]!, /^pgscope connection #1: server 127\.0\.0\.1:46625 \(shown as port 5432 so that Wireshark decodes PostgreSQL\)$/);
  assert.match(syns[1]!['frame.comment']![0]!, /^pgscope connection #2: server \[::1\]:6543 /);
  assert.deepEqual(syns[1]!['ipv6.dst'], ['::1']);
  // TCP as Wireshark sees it: nothing to flag (lost or unseen segments, retransmissions, window).
  assert.deepEqual(tsharkFields(file, 'tcp.analysis.flags', ['frame.number']), []);
});

/** The fixture with every chunk cut into `n`-byte pieces, so secrets straddle wire chunks. */
function cut(f: Fixture, n: number): Fixture {
  return { ...f, chunks: f.chunks.flatMap((c) => Array.from({ length: Math.ceil(c.bytes.length / n) }, (_, i) => ({ dir: c.dir, bytes: c.bytes.subarray(i * n, i * n + n) }))) };
}

test('--redact-passwords: cleartext and MD5 passwords are nowhere in the file, even split across chunks; tshark still decodes it all', () => {
  const names = ['psql-md5-auth', 'psql-cleartext-auth'];
  // Each recording twice: as recorded, and cut into 3-byte chunks so the secret straddles them.
  const runs = names.flatMap((name, i) =>
    [fixture(name), cut(fixture(name), 3)].map((f, j) => {
      const conn = i * 2 + j + 1;
      return fixtureEvents(f, conn, T0 + conn * 100, { address: '127.0.0.1', port: 50000 + conn }, { address: '127.0.0.1', port: 5433 });
    }),
  );
  const passwords = runs.map((r) => values(r.messages, 'p', 'password')[0] ?? '');
  assert.ok(passwords.every((p) => p.length > 3), 'each fixture has a password message');
  assert.ok(passwords[0]!.startsWith('md5') && !passwords[2]!.startsWith('md5'));

  const plainFile = join(dir, 'plain.pcapng');
  capture(plainFile, false, runs.map((r) => r.events));
  const plain = readFileSync(plainFile);
  assert.ok(passwords.every((p) => plain.includes(p)), 'without redaction the passwords are in the file');

  const file = join(dir, 'redacted.pcapng');
  capture(file, true, runs.map((r) => r.events));
  const bytes = readFileSync(file);
  for (const [i, r] of runs.entries()) {
    assert.ok(!bytes.includes(passwords[i]!), `connection #${i + 1}: the password is not in the redacted file`);
    // BackendKeyData's secret key is redacted too (it lets anyone cancel the session's queries).
    assert.ok(!bytes.includes(r.messages.find((m) => m.frame.type === 'K')!.frame.bytes));
  }

  const pkts = tsharkFields(file, 'pgsql', ['tcp.stream', 'pgsql.type', 'pgsql.password', 'pgsql.query', 'pgsql.tag']);
  for (const [i, r] of runs.entries()) {
    const inStream = pkts.filter((p) => p['tcp.stream']?.[0] === String(i));
    assert.deepEqual(
      inStream.flatMap((p) => p['pgsql.password'] ?? []),
      ['x'.repeat(passwords[i]!.length)],
      `stream ${i}: the password message, same length, filled with x`,
    );
    assert.ok(inStream.some((p) => p['pgsql.type']?.includes('Password message')));
    // The conversation after the password still parses: the framing is intact.
    assert.deepEqual(inStream.flatMap((p) => p['pgsql.query'] ?? []), values(r.messages, 'Q', 'query'));
    assert.deepEqual(inStream.flatMap((p) => p['pgsql.tag'] ?? []), values(r.messages, 'C', 'command tag'));
  }
  assert.deepEqual(tsharkFields(file, 'tcp.analysis.flags', ['frame.number']), []);
});
