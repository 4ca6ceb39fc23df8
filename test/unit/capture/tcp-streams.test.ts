/**
 * TCP segments out of frames of every link layer (src/capture/tcp-segments.ts), and
 * connections put back together from them (src/capture/tcp-streams.ts): who is the client,
 * bytes in sequence order whatever the capture order, retransmissions given once, holes
 * declared lost (when acknowledged past, when the connection ends, when too much waits),
 * FIN and RST, a new connection on the same ports, sequence numbers that wrap.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { segmentOf, type Segment } from '../../../src/capture/tcp-segments.js';
import { TcpStreams, type StreamEvent } from '../../../src/capture/tcp-streams.js';
import { ACK, ethernet, FIN, inLinkLayer, ipPacket, PSH, RST, SYN, type End, type Seg } from './build-capture.js';

const client: End = { ip: '10.0.0.5', port: 40001 };
const server: End = { ip: '10.0.0.9', port: 5432 };

function seg(from: End, to: End, s: Seg): Segment {
  const r = segmentOf(1, ethernet(from, to, s));
  assert.ok(typeof r !== 'string', r as string);
  return r;
}

/** A StreamEvent as the tests look at it: data as text. */
type Ev = Record<string, any> & { kind: StreamEvent['kind']; id: number };

/** Feed segments (with their comments) to a TcpStreams; the events, bytes as text. */
function run(segments: [End, End, Seg, string?][], serverPorts = [5432]): Ev[] {
  const out: Ev[] = [];
  const streams = new TcpStreams(new Set(serverPorts), (ev) => out.push(ev.kind === 'data' ? { ...ev, bytes: ev.bytes.toString('latin1') } : ev));
  segments.forEach(([from, to, s, comment], i) => streams.push(seg(from, to, s), 1000 + i, comment ?? null));
  streams.end(9999);
  return out;
}

/** Each direction's bytes, with [lost N] where a hole was declared. */
function streamsOf(events: Ev[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) {
    if (e.kind === 'data') out[`${e.id} ${e.direction}`] = (out[`${e.id} ${e.direction}`] ?? '') + e.bytes;
    if (e.kind === 'gap') out[`${e.id} ${e.direction}`] = (out[`${e.id} ${e.direction}`] ?? '') + `[lost ${e.lost}]`;
  }
  return out;
}

const C = 1000; // the client's initial sequence number
const S = 5000;
const handshake: [End, End, Seg][] = [
  [client, server, { seq: C, flags: SYN }],
  [server, client, { seq: S, ack: C + 1, flags: SYN }],
  [client, server, { seq: C + 1, ack: S + 1, flags: 0 }],
];

describe('segmentOf: TCP out of each link layer', () => {
  const v4 = ipPacket(ethernet(client, server, { seq: 7, ack: 9, flags: PSH, payload: 'hello' }));
  const v6 = ipPacket(ethernet({ ip: '2001:db8::5', port: 40001 }, { ip: '2001:db8:0:0:1:0:0:9', port: 5432 }, { seq: 7, ack: 9, flags: PSH, payload: 'hello' }));
  for (const linkType of [1, 101, 113, 276, 0]) {
    it(`link type ${linkType}, IPv4 and IPv6`, () => {
      assert.deepEqual(segmentOf(linkType, inLinkLayer(linkType, v4)), { src: '10.0.0.5', dst: '10.0.0.9', srcPort: 40001, dstPort: 5432, seq: 7, ack: 9, flags: PSH | ACK, payload: Buffer.from('hello') });
      const s6 = segmentOf(linkType, inLinkLayer(linkType, v6));
      assert.ok(typeof s6 !== 'string');
      assert.deepEqual([s6.src, s6.dst, s6.payload.toString()], ['2001:db8::5', '2001:db8::1:0:0:9', 'hello']);
    });
  }

  it('IPv6 extension headers are skipped; IPv4-mapped addresses read as IPv4', () => {
    const plain = ipPacket(ethernet({ ip: '::ffff:7f00:1', port: 1 }, { ip: '::1', port: 2 }, { seq: 1, flags: PSH, payload: 'x' }));
    // Insert a hop-by-hop header (8 bytes) between the IPv6 header and TCP.
    const withHop = Buffer.concat([plain.subarray(0, 40), Buffer.from([6, 0, 0, 0, 0, 0, 0, 0]), plain.subarray(40)]);
    withHop[6] = 0; // next header: hop-by-hop
    withHop.writeUInt16BE(plain.readUInt16BE(4) + 8, 4);
    const s = segmentOf(101, withHop);
    assert.ok(typeof s !== 'string', String(s));
    assert.deepEqual([s.src, s.dst, s.payload.toString()], ['127.0.0.1', '::1', 'x']);
  });

  it('what is not a TCP segment says why', () => {
    const udp = Buffer.from(v4);
    udp[9] = 17;
    assert.equal(segmentOf(101, udp), 'not TCP');
    const fragment = Buffer.from(v4);
    fragment.writeUInt16BE(0x2000, 6); // more fragments
    assert.equal(segmentOf(101, fragment), 'IP fragment');
    assert.equal(segmentOf(105, v4), 'link type');
    const arp = Buffer.alloc(42);
    arp.writeUInt16BE(0x0806, 12);
    assert.equal(segmentOf(1, arp), 'not IP');
    assert.equal(segmentOf(101, v4.subarray(0, 30)), 'cut short');
  });

  it('a frame cut by the snap length gives the payload captured', () => {
    const s = segmentOf(101, v4.subarray(0, v4.length - 2));
    assert.ok(typeof s !== 'string');
    assert.equal(s.payload.toString(), 'hel');
  });
});

describe('TcpStreams', () => {
  it('the SYN decides the client, whatever the ports; data in order; FIN both ways closes with the first FIN’s comment', () => {
    const a: End = { ip: '10.0.0.1', port: 5432 };
    const b: End = { ip: '10.0.0.2', port: 7000 };
    const ev = run([
      [a, b, { seq: C, flags: SYN }, 'pgscope connection #4: server 10.0.0.2:7000'],
      [b, a, { seq: S, ack: C + 1, flags: SYN }],
      [a, b, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'hello' }],
      [b, a, { seq: S + 1, ack: C + 6, flags: PSH, payload: 'world' }],
      [a, b, { seq: C + 6, ack: S + 6, flags: FIN }, 'closed: bye'],
      [b, a, { seq: S + 6, ack: C + 7, flags: FIN }],
      [a, b, { seq: C + 7, ack: S + 7, flags: 0 }],
    ]);
    assert.deepEqual(ev[0], { kind: 'open', id: 1, time: 1000, client: { address: '10.0.0.1', port: 5432 }, server: { address: '10.0.0.2', port: 7000 }, handshake: true, comment: 'pgscope connection #4: server 10.0.0.2:7000' });
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'hello', '1 backend': 'world' });
    assert.deepEqual(ev.at(-1), { kind: 'close', id: 1, time: 1005, how: 'fin', comment: 'closed: bye' });
    assert.equal(ev.length, 4, 'the last ACK is not a new connection');
  });

  it('a SYN-ACK alone (the SYN not captured) still says who the server is; the SYN captured after it belongs to it', () => {
    const ev = run([[server, client, { seq: S, ack: C + 1, flags: SYN }], [client, server, { seq: C, flags: SYN }], [client, server, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'q' }]]);
    assert.deepEqual(ev[0], { kind: 'open', id: 1, time: 1000, client: { address: '10.0.0.5', port: 40001 }, server: { address: '10.0.0.9', port: 5432 }, handshake: true, comment: null });
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'q' });
  });

  it('without a handshake: the side on a server port is the server; else the higher port is the client', () => {
    const first = run([[server, client, { seq: S, ack: C, flags: PSH, payload: 'Z' }]]);
    assert.deepEqual(first[0], { kind: 'open', id: 1, time: 1000, client: { address: '10.0.0.5', port: 40001 }, server: { address: '10.0.0.9', port: 5432 }, handshake: false, comment: null });
    const given = run([[{ ip: '10.0.0.9', port: 6000 }, { ip: '10.0.0.5', port: 3000 }, { seq: S, flags: PSH, payload: 'Z' }]], [6000]);
    assert.deepEqual(given[0]!.server, { address: '10.0.0.9', port: 6000 });
    const neither = run([[{ ip: '10.0.0.9', port: 2000 }, { ip: '10.0.0.5', port: 50000 }, { seq: S, flags: PSH, payload: 'Z' }]]);
    assert.deepEqual(neither[0]!.client, { address: '10.0.0.5', port: 50000 });
    assert.deepEqual(streamsOf(neither), { '1 backend': 'Z' });
    // A stray ACK or FIN of a connection whose data is not in the capture opens nothing.
    assert.deepEqual(run([[client, server, { seq: 1, ack: 1, flags: FIN }]]), []);
  });

  it('segments captured out of order are given in sequence order; retransmissions and overlaps once', () => {
    const ev = run([
      ...handshake,
      [client, server, { seq: C + 6, ack: S + 1, flags: PSH, payload: 'world' }], // ahead
      [client, server, { seq: C + 11, ack: S + 1, flags: PSH, payload: '!!' }], // further ahead
      [client, server, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'hello' }], // fills the hole
      [client, server, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'hello' }], // retransmitted
      [client, server, { seq: C + 9, ack: S + 1, flags: PSH, payload: 'ld!!??' }], // overlaps, then 2 new bytes
      [server, client, { seq: S + 1, ack: C + 15, flags: PSH, payload: 'ok' }],
      [client, server, { seq: C + 14, ack: S + 3, flags: 0, payload: '?' }], // a keep-alive byte already given
    ]);
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'helloworld!!??', '1 backend': 'ok' });
    // The bytes that filled the hole and those waiting behind it come with the packet that filled it.
    assert.deepEqual(
      ev.filter((e) => e.kind === 'data' && e.direction === 'frontend').map((e) => [e.time, e.bytes]),
      [
        [1005, 'hello'],
        [1005, 'world'],
        [1005, '!!'],
        [1007, '??'],
      ],
    );
  });

  it('a retransmission that differs from the first copy: the first copy stands, the difference is flagged with its offset and length', () => {
    const ev = run([
      ...handshake,
      [client, server, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'hello' }],
      [client, server, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'hello' }], // the same: nothing to say
      [client, server, { seq: C + 3, ack: S + 1, flags: PSH, payload: 'LXo!' }], // 'llo' again, but 'X' for 'l', then '!'
    ]);
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'hello!' });
    assert.deepEqual(
      ev.filter((e) => e.kind === 'conflict'),
      [{ kind: 'conflict', id: 1, time: 1005, direction: 'frontend', at: 2, length: 3 }],
    );
  });

  it('a hole the receiver acknowledged past is lost: said at once, with how many bytes, and the rest follows', () => {
    const ev = run([
      ...handshake,
      [client, server, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'abc' }],
      // 'defg' (4 bytes) never captured
      [client, server, { seq: C + 8, ack: S + 1, flags: PSH, payload: 'hij' }],
      [server, client, { seq: S + 1, ack: C + 11, flags: PSH, payload: 'R' }],
      [client, server, { seq: C + 11, ack: S + 2, flags: PSH, payload: 'k' }],
    ]);
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'abc[lost 4]hijk', '1 backend': 'R' });
    const gap = ev.find((e) => e.kind === 'gap');
    assert.deepEqual(gap, { kind: 'gap', id: 1, time: 1005, direction: 'frontend', lost: 4 });
  });

  it('an acknowledgement that runs ahead of the data it acknowledges (capture order) is not a loss', () => {
    const ev = run([
      ...handshake,
      [server, client, { seq: S + 1, ack: C + 4, flags: 0 }], // acknowledges 'abc' before it is seen
      [client, server, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'abc' }],
    ]);
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'abc' });
  });

  it('a hole never filled: lost when the connection ends (FIN, RST, end of capture) or when too much waits behind it', () => {
    const atEnd = run([...handshake, [client, server, { seq: C + 1, flags: PSH, payload: 'ab' }], [client, server, { seq: C + 10, flags: PSH, payload: 'yz' }]]);
    assert.deepEqual(streamsOf(atEnd), { '1 frontend': 'ab[lost 7]yz' });
    assert.deepEqual(atEnd.at(-1), { kind: 'close', id: 1, time: 9999, how: 'end', comment: null });

    const reset = run([...handshake, [client, server, { seq: C + 5, flags: PSH, payload: 'late' }], [server, client, { seq: S + 1, flags: RST }, 'reset']]);
    assert.deepEqual(streamsOf(reset), { '1 frontend': '[lost 4]late' });
    assert.deepEqual(reset.at(-1), { kind: 'close', id: 1, time: 1004, how: 'rst', comment: 'reset' });

    const big = Buffer.alloc(60_000, 0x61);
    const flood: [End, End, Seg][] = [...handshake];
    for (let i = 0; i < 80; i++) flood.push([client, server, { seq: C + 11 + i * big.length, flags: PSH, payload: big }]);
    const ev = run(flood);
    const gap = ev.find((e) => e.kind === 'gap');
    assert.ok(gap, 'declared lost before the end');
    assert.ok(ev.indexOf(gap) < ev.findIndex((e) => e.kind === 'close'));
    assert.equal(gap.lost, 10);
    assert.equal(streamsOf(ev)['1 frontend']!.length, '[lost 10]'.length + 80 * big.length);
  });

  it('the FIN waits for the bytes before it; FIN with data', () => {
    const ev = run([
      ...handshake,
      [client, server, { seq: C + 4, ack: S + 1, flags: FIN | PSH, payload: 'de' }], // FIN ahead of a hole
      [server, client, { seq: S + 1, ack: C + 1, flags: FIN }],
      [client, server, { seq: C + 1, ack: S + 2, flags: PSH, payload: 'abc' }], // the hole fills: now complete
    ]);
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'abcde' });
    assert.deepEqual(ev.at(-1), { kind: 'close', id: 1, time: 1005, how: 'fin', comment: null });
  });

  it('a new SYN on the same addresses and ports is a new connection; a retransmitted SYN is not', () => {
    const ev = run([
      [client, server, { seq: C, flags: SYN }],
      [client, server, { seq: C, flags: SYN }],
      [server, client, { seq: S, ack: C + 1, flags: SYN }],
      [client, server, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'one' }],
      [client, server, { seq: 90_000, flags: SYN }],
      [server, client, { seq: 70_000, ack: 90_001, flags: SYN }],
      [client, server, { seq: 90_001, ack: 70_001, flags: PSH, payload: 'two' }],
    ]);
    assert.deepEqual(
      ev.map((e) => `${e.kind} ${e.id}${e.kind === 'close' ? ` ${e.how}` : ''}`),
      ['open 1', 'data 1', 'close 1 end', 'open 2', 'data 2', 'close 2 end'],
    );
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'one', '2 frontend': 'two' });
  });

  it('sequence numbers that wrap around 2^32', () => {
    const isn = 0xfffffffd;
    const ev = run([
      [client, server, { seq: isn, flags: SYN }],
      [server, client, { seq: S, ack: isn + 1, flags: SYN }],
      [client, server, { seq: 0, ack: S + 1, flags: PSH, payload: 'cdef' }], // ahead: after the wrap
      [client, server, { seq: 0xfffffffe, ack: S + 1, flags: PSH, payload: 'ab' }],
    ]);
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'abcdef' });
  });

  it('IPv6 connections', () => {
    const c6: End = { ip: 'fd00::1', port: 50000 };
    const s6: End = { ip: 'fd00::2', port: 5432 };
    const ev = run([
      [c6, s6, { seq: C, flags: SYN }],
      [s6, c6, { seq: S, ack: C + 1, flags: SYN }],
      [c6, s6, { seq: C + 1, ack: S + 1, flags: PSH, payload: 'v6' }],
    ]);
    assert.deepEqual(ev[0]!.client, { address: 'fd00::1', port: 50000 });
    assert.deepEqual(streamsOf(ev), { '1 frontend': 'v6' });
  });
});
