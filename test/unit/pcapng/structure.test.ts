import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OutputSetupError } from '../../../src/output/output-setup-error.js';
import { OutputTarget } from '../../../src/output/output-target.js';
import { PcapngSink } from '../../../src/output/pcapng/index.js';
import { closed, opened, serverConnected, wire } from './events.js';
import { ACK, FIN, followStreams, memoryWriter, PSH, readBlocks, readPackets, SYN } from './read-pcapng.js';

const T0 = 1_700_000_000_123.456; // ms since the epoch, µs precision
const micros = (ms: number): number => Math.round(ms * 1000);
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

test('a connection is a well-formed TCP stream: handshake, data, ACKs, FINs, checksums, real times', () => {
  const w = memoryWriter();
  const sink = new PcapngSink(w, { redact: false });
  const startup = pattern(100, 1);
  const big = pattern(50_000, 2);
  const tail = pattern(5, 3);
  sink.write(opened(1, T0, { address: '127.0.0.1', port: 40000 }));
  // The client's bytes arrive before the server is connected: they wait for the handshake.
  sink.write(wire(1, T0 + 0.5, 'frontend', 0, startup));
  sink.write(serverConnected(1, T0 + 1.5, { address: '127.0.0.1', port: 46625 }));
  sink.write(wire(1, T0 + 2.25, 'backend', 0, big));
  sink.write(wire(1, T0 + 3, 'frontend', 100, tail));
  sink.write(closed(1, T0 + 4, 'the client sent Terminate'));
  sink.flush();
  const file = w.bytes();

  const blocks = readBlocks(file);
  assert.equal(blocks[0]!.type, 0x0a0d0d0a);
  assert.equal(blocks[0]!.options.find((o) => o.code === 4)?.value.toString(), 'pgscope');
  assert.equal(blocks[1]!.type, 1);
  assert.equal(blocks[1]!.body.readUInt16LE(0), 1, 'LINKTYPE_ETHERNET');
  assert.equal(blocks.filter((b) => b.type === 1).length, 1, 'one interface');

  const packets = readPackets(file);
  const [s, ...more] = followStreams(packets);
  assert.ok(s);
  assert.equal(more.length, 0);
  assert.deepEqual(s.client, { ip: '127.0.0.1', port: 40000 });
  assert.deepEqual(s.server, { ip: '127.0.0.1', port: 5432 });
  assert.ok(s.closed, 'FIN both ways and the last ACK');
  assert.deepEqual(s.fromClient, Buffer.concat([startup, tail]));
  assert.deepEqual(s.fromServer, big);
  assert.match(s.synComment ?? '', /^pgscope connection #1: server 127\.0\.0\.1:46625 \(shown as port 5432 so that Wireshark decodes PostgreSQL\)$/);
  assert.match(s.finComment ?? '', /#1 closed: the client sent Terminate/);

  assert.deepEqual(
    packets.slice(0, 3).map((p) => p.flags),
    [SYN, SYN | ACK, ACK],
  );
  assert.deepEqual(
    packets.slice(-3).map((p) => p.flags),
    [FIN | ACK, FIN | ACK, ACK],
  );
  const data = packets.filter((p) => p.payload.length > 0);
  assert.ok(data.every((p) => p.flags === (PSH | ACK) && p.payload.length <= 16 * 1024));
  assert.equal(data.filter((p) => p.sport === 5432).length, 4, '50000 bytes in 4 segments');
  // Every data batch is acknowledged by the peer right after it (the ACK covers the segment).
  for (const p of data) {
    const i = packets.indexOf(p);
    const next = packets.slice(i + 1).find((q) => q.sport !== p.sport);
    assert.ok(next && next.payload.length === 0 && next.flags === ACK);
    assert.ok(((next.ack - (p.seq + p.payload.length)) >>> 0) < 2 ** 31);
  }

  // Real timestamps: the handshake at 'opened', data at its own event's time.
  assert.equal(packets[0]!.micros, micros(T0));
  assert.equal(data[0]!.micros, micros(T0 + 0.5));
  assert.equal(data.find((p) => p.sport === 5432)!.micros, micros(T0 + 2.25));
  assert.equal(packets.at(-1)!.micros, micros(T0 + 4));

  // IPv4 identification increases by one per packet of each sender.
  for (const port of [40000, 5432]) {
    const ids = packets.filter((p) => p.sport === port).map((p) => p.ipId!);
    ids.forEach((id, i) => i > 0 && assert.equal(id, (ids[i - 1]! + 1) & 0xffff));
  }
});

test('a huge chunk is acknowledged often enough to stay within the advertised window', () => {
  const w = memoryWriter();
  const sink = new PcapngSink(w, { redact: false });
  const huge = pattern(9 * 1024 * 1024, 9); // more than the 8 MiB window
  sink.write(opened(1, T0, { address: '10.1.2.3', port: 40000 }));
  sink.write(serverConnected(1, T0, { address: '10.1.2.4', port: 5432 }));
  sink.write(wire(1, T0 + 1, 'backend', 0, huge));
  sink.close();
  const packets = readPackets(w.bytes());
  const [s] = followStreams(packets);
  assert.deepEqual(s!.fromServer, huge);
  // Window scale 7 in both SYNs: 65535 << 7 bytes may be in flight.
  const syn = packets[0]!;
  assert.ok(syn.tcpOptions.includes(Buffer.from([3, 3, 7])));
  const window = 65535 << 7;
  let lastAck = packets.find((p) => p.sport === 40000 && p.flags === ACK)!.ack;
  for (const p of packets) {
    if (p.sport === 40000) lastAck = p.ack;
    else if (p.payload.length) assert.ok(((p.seq + p.payload.length - lastAck) >>> 0) <= window, 'data within the window');
  }
});

test('addresses: IPv4-mapped IPv6 becomes IPv4; mixed families become IPv6; IPv6 zones are dropped', () => {
  const w = memoryWriter();
  const sink = new PcapngSink(w, { redact: false });
  sink.write(opened(1, T0, { address: '::ffff:10.0.0.7', port: 1234 }));
  sink.write(serverConnected(1, T0, { address: '10.0.0.8', port: 5433 }));
  sink.write(opened(2, T0, { address: '::1', port: 2345 }));
  sink.write(serverConnected(2, T0, { address: '127.0.0.1', port: 5432 }));
  sink.write(opened(3, T0, { address: 'fe80::1%lo', port: 3456 }));
  sink.write(serverConnected(3, T0, { address: '2001:db8::5', port: 6543 }));
  for (const c of [1, 2, 3]) sink.write(wire(c, T0 + 1, 'frontend', 0, Buffer.from('hello')));
  sink.close();
  const packets = readPackets(w.bytes());
  const [a, b, c] = followStreams(packets);
  assert.equal(packets.filter((p) => p.sport === 1234 || p.dport === 1234).every((p) => !p.v6), true);
  assert.deepEqual([a!.client.ip, a!.server.ip], ['10.0.0.7', '10.0.0.8']);
  assert.match(a!.synComment!, /server 10\.0\.0\.8:5433 /);
  assert.deepEqual([b!.client.ip, b!.server.ip], ['0:0:0:0:0:0:0:1', '0:0:0:0:0:ffff:7f00:1']);
  assert.match(b!.synComment!, /server \[::ffff:127\.0\.0\.1\]:5432 .*the server's IPv4 address is shown as ::ffff:127\.0\.0\.1 because the other end is IPv6/);
  assert.deepEqual([c!.client.ip, c!.server.ip], ['fe80:0:0:0:0:0:0:1', '2001:db8:0:0:0:0:0:5']);
  assert.match(c!.synComment!, /server \[2001:db8::5\]:6543 /);
  assert.ok([a, b, c].every((s) => s!.closed && s!.server.port === 5432 && s!.fromClient.toString() === 'hello'));
});

test('client port 5432, or a 4-tuple already open in the file, is replaced and the comment says so', () => {
  const w = memoryWriter();
  const sink = new PcapngSink(w, { redact: false });
  sink.write(opened(1, T0, { address: '127.0.0.1', port: 5432 }));
  sink.write(serverConnected(1, T0, { address: '127.0.0.1', port: 15432 }));
  // Two servers on one host, reached from the same client port: both are 5432 in the file.
  sink.write(opened(2, T0, { address: '10.0.0.1', port: 40000 }));
  sink.write(serverConnected(2, T0, { address: '10.0.0.2', port: 5432 }));
  sink.write(opened(3, T0, { address: '10.0.0.1', port: 40000 }));
  sink.write(serverConnected(3, T0, { address: '10.0.0.2', port: 6543 }));
  sink.write(closed(2, T0 + 1));
  sink.write(closed(3, T0 + 1));
  // Once the first has closed, the real port is free again.
  sink.write(opened(4, T0 + 2, { address: '10.0.0.1', port: 40000 }));
  sink.write(serverConnected(4, T0 + 2, { address: '10.0.0.2', port: 5432 }));
  sink.close();
  const streams = followStreams(readPackets(w.bytes()));
  assert.deepEqual(
    streams.map((s) => s.client.port),
    [5433, 40000, 40001, 40000],
  );
  assert.match(streams[0]!.synComment!, /client port 5432 shown as 5433 \(5432 is the server's port in this file\)/);
  assert.match(streams[2]!.synComment!, /client port 40000 shown as 40001 \(another open connection in this file has the same addresses and port\)/);
  assert.doesNotMatch(streams[3]!.synComment!, /client port/);
  assert.ok(streams.every((s) => s.closed));
});

test('a connection that never reached a server: shown at pgscope\'s address if it carried bytes, else left out', () => {
  const w = memoryWriter();
  const sink = new PcapngSink(w, { redact: false });
  sink.write(opened(1, T0, { address: '127.0.0.1', port: 40001 }, { address: '127.0.0.1', port: 6432 }));
  sink.write(closed(1, T0 + 1));
  sink.write(opened(2, T0 + 2, { address: '127.0.0.1', port: 40002 }, { address: '127.0.0.2', port: 6432 }));
  sink.write(wire(2, T0 + 3, 'frontend', 0, Buffer.from('startup')));
  sink.write(wire(2, T0 + 4, 'backend', 0, Buffer.from('error')));
  sink.write(closed(2, T0 + 5, 'no server: connection refused'));
  sink.close();
  const streams = followStreams(readPackets(w.bytes()));
  assert.equal(streams.length, 1);
  const s = streams[0]!;
  assert.deepEqual([s.client.port, s.server.ip, s.server.port], [40002, '127.0.0.2', 5432]);
  assert.match(s.synComment!, /#2: no server \(the connection ended before one was connected\): shown at pgscope's own address 127\.0\.0\.2:6432/);
  assert.deepEqual([s.fromClient.toString(), s.fromServer.toString()], ['startup', 'error']);
  assert.ok(s.closed);
  assert.equal(s.packets[0]!.micros, micros(T0 + 2));
});

test('output is buffered until flush(); close() ends open connections, flushes once and ignores later events', () => {
  const w = memoryWriter();
  const sink = new PcapngSink(w, { redact: false });
  sink.write(opened(1, T0, { address: '127.0.0.1', port: 40000 }));
  sink.write(serverConnected(1, T0, { address: '127.0.0.1', port: 5432 }));
  sink.write(wire(1, T0 + 7, 'frontend', 0, Buffer.from('abc')));
  assert.equal(w.bytes().length, 0, 'nothing written before flush()');
  sink.flush();
  const first = w.bytes();
  assert.equal(followStreams(readPackets(first))[0]!.closed, false, 'a complete, readable prefix');
  sink.close();
  assert.ok(w.ended);
  sink.write(wire(1, T0 + 9, 'frontend', 3, Buffer.from('def')));
  sink.close();
  const packets = readPackets(w.bytes());
  const [s] = followStreams(packets);
  assert.ok(s!.closed);
  assert.equal(s!.fromClient.toString(), 'abc');
  assert.match(s!.finComment!, /still open when pgscope stopped writing this file/);
  assert.equal(packets.at(-1)!.micros, micros(T0 + 7), 'closed at the last time seen');
});

test('over an OutputTarget: a 0600 file, truncating, even when it existed 0644; a symlink or a bad path is an OutputSetupError naming the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgscope-pcapng-'));
  try {
    const path = join(dir, 'trace.pcapng');
    writeFileSync(path, 'old');
    chmodSync(path, 0o644);
    for (let i = 0; i < 2; i++) {
      const f = OutputTarget.openPath('--pcap', path, false, { unit: 'block', warn: () => {} });
      const sink = new PcapngSink({ write: (b, n) => f.write(b, n), end: () => f.close() }, { redact: false });
      sink.write(opened(1, T0, { address: '127.0.0.1', port: 40000 }));
      sink.write(serverConnected(1, T0, { address: '127.0.0.1', port: 5432 }));
      sink.write(wire(1, T0, 'frontend', 0, Buffer.from('x'.repeat(i + 1))));
      sink.close();
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const streams = followStreams(readPackets(readFileSync(path)));
    assert.equal(streams.length, 1, 'the second run replaced the first');
    assert.equal(streams[0]!.fromClient.toString(), 'xx');
    const bad = join(dir, 'missing', 'trace.pcapng');
    assert.throws(() => OutputTarget.openPath('--pcap', bad, false, { unit: 'block', warn: () => {} }), (e: Error) => e instanceof OutputSetupError && e.message.includes(bad));
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'keep');
    const link = join(dir, 'link.pcapng');
    symlinkSync(target, link);
    assert.throws(() => OutputTarget.openPath('--pcap', link, false, { unit: 'block', warn: () => {} }), (e: Error) => e instanceof OutputSetupError && e.message.includes(link) && /symbolic link/.test(e.message));
    assert.equal(readFileSync(target, 'utf8'), 'keep', 'the link target is untouched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
