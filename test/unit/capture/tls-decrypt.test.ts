/**
 * TLS in captures, decrypted with key logs (src/capture/tls/): real TLS sessions made by
 * Node's OpenSSL on loopback, recorded byte for byte by a TCP relay between client and
 * server, with the client's 'keylog' lines as the key log. For each of TLS 1.3's three
 * suites and TLS 1.2's ECDHE AES-GCM and ChaCha20-Poly1305 (RSA and ECDSA certificates),
 * after SSLRequest and as direct TLS: the capture read back gives exactly the messages of
 * the same conversation captured in plaintext, the connection's TLS facts (version,
 * cipher, SNI, ALPN), and the certificate's subject. Without the key, or with another
 * connection's, it says so and what the handshake shows; records split across segments
 * and a 40 KiB DataRow across records are put together.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, createServer as tlsServer, type SecureVersion } from 'node:tls';
import { readCapture } from '../../../src/capture/read-capture.js';
import { KeyLog } from '../../../src/capture/tls/key-log.js';
import { makeSelfSigned, type CertFiles } from '../../helpers/tls-certs.js';
import { cstr, int16, int32, msg, startupMessage } from '../../helpers/wire.js';
import { framesPcapng, tcpFrames, type Chunk } from './build-capture.js';

type Obj = Record<string, any> & { type: string; conn: number | null };

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const big = 'x'.repeat(40 * 1024);

/** What the client says, in turns, and what the server answers each. */
const TURNS: { client: Buffer; server: Buffer }[] = [
  { client: startupMessage({ user: 'alice', database: 'shop' }), server: Buffer.concat([msg('R', int32(0)), msg('S', cstr('server_version'), cstr('18.1')), msg('Z', 'I')]) },
  { client: msg('Q', cstr('select 1')), server: Buffer.concat([rowDescription(), msg('D', int16(1), int32(1), '1'), msg('C', cstr('SELECT 1')), msg('Z', 'I')]) },
  { client: msg('Q', cstr('select big')), server: Buffer.concat([rowDescription(), msg('D', int16(1), int32(big.length), big), msg('C', cstr('SELECT 1')), msg('Z', 'I')]) },
  { client: msg('Q', cstr('select 1/0')), server: Buffer.concat([msg('E', 'SERROR\0', 'C22012\0', 'Mdivision by zero\0', '\0'), msg('Z', 'I')]) },
  { client: msg('X'), server: Buffer.alloc(0) },
];

function rowDescription(): Buffer {
  return msg('T', int16(1), cstr('v'), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0));
}

interface Recorded {
  chunks: Chunk[];
  keylog: string;
  /** What the client saw of the session (getProtocol, getCipher().name). */
  protocol: string;
  cipher: string;
}

let dir: string;
let rsa: CertFiles;
let ec: CertFiles;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-tls-capture-'));
  rsa = await makeSelfSigned(dir, 'rsa', { key: 'rsa', dns: ['db.example'] });
  ec = await makeSelfSigned(dir, 'ec', { key: 'ec', dns: ['db.example'] });
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Setup {
  version: SecureVersion;
  cipher: string;
  cert: 'rsa' | 'ec';
}

/**
 * One real TLS session through a relay that records each side's bytes as they pass, with
 * the plaintext TURNS inside it. `direct`: no SSLRequest first.
 */
async function record(setup: Setup, direct: boolean): Promise<Recorded> {
  const files = setup.cert === 'rsa' ? rsa : ec;
  const server = tlsServer({
    key: readFileSync(files.keyFile),
    cert: readFileSync(files.certFile),
    minVersion: setup.version,
    maxVersion: setup.version,
    ALPNProtocols: ['postgresql'],
    // Node takes TLS 1.3's suites in `ciphers` too.
    ciphers: setup.cipher,
  });
  let turn = 0;
  server.on('secureConnection', (s) => {
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      while (turn < TURNS.length && got.length >= TURNS[turn]!.client.length) {
        got = got.subarray(TURNS[turn]!.client.length);
        const answer = TURNS[turn++]!.server;
        if (answer.length > 0) s.write(answer);
      }
      if (turn === TURNS.length) s.end();
    });
  });
  await listen(server);
  const chunks: Chunk[] = [];
  let t = T0;
  const relay = createServer((down) => {
    const up = netConnect((server.address() as AddressInfo).port, '127.0.0.1');
    // Before TLS, the SSLRequest and its answer, as a PostgreSQL client and server say them.
    if (!direct) chunks.push({ side: 'client', bytes: SSL_REQUEST, time: t++ }, { side: 'server', bytes: Buffer.from('S'), time: t++ });
    down.on('data', (d: Buffer) => {
      chunks.push({ side: 'client', bytes: Buffer.from(d), time: t++ });
      up.write(d);
    });
    up.on('data', (d: Buffer) => {
      chunks.push({ side: 'server', bytes: Buffer.from(d), time: t++ });
      down.write(d);
    });
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  await listen(relay);
  let keylog = '';
  const client = tlsConnect({ port: (relay.address() as AddressInfo).port, host: '127.0.0.1', servername: 'db.example', rejectUnauthorized: false, ALPNProtocols: ['postgresql'], minVersion: setup.version, maxVersion: setup.version, ciphers: setup.cipher });
  client.on('keylog', (line: Buffer) => (keylog += line.toString('latin1')));
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', resolve);
    client.once('error', reject);
  });
  const protocol = client.getProtocol()!;
  const cipher = client.getCipher().name;
  let received = 0;
  const expected = TURNS.reduce((n, x) => n + x.server.length, 0);
  await new Promise<void>((resolve, reject) => {
    client.on('data', (d: Buffer) => {
      received += d.length;
    });
    client.on('end', () => (received === expected ? resolve() : reject(new Error(`client got ${received} of ${expected} bytes`))));
    client.on('error', reject);
    for (const x of TURNS) client.write(x.client);
  });
  client.end();
  await new Promise((r) => setTimeout(r, 20));
  relay.close();
  server.close();
  return { chunks, keylog, protocol, cipher };
}

function listen(s: Server): Promise<void> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
}

let files = 0;
async function readChunks(chunks: Chunk[], keylog: string | null): Promise<{ objects: Obj[]; notes: string[] }> {
  const pcapng = join(dir, `c${++files}.pcapng`);
  writeFileSync(pcapng, framesPcapng(tcpFrames([{ client: { ip: '10.0.0.1', port: 50000 }, server: { ip: '10.0.0.2', port: 5432 }, chunks }])));
  let keys: KeyLog | null = null;
  if (keylog !== null) {
    const keyFile = join(dir, `k${files}.txt`);
    writeFileSync(keyFile, keylog);
    keys = new KeyLog();
    keys.add(keyFile);
  }
  return (await readCapture(pcapng, { redact: false, keys })) as unknown as { objects: Obj[]; notes: string[] };
}

/**
 * The messages as both a plaintext and a decrypted capture must give them, each
 * direction's in order (the client sends its turns without waiting): not their times nor
 * offsets (an SSLRequest shifts the client's).
 */
const messages = (objects: Obj[]): Record<string, unknown[]> => {
  const of = (dir: string): unknown[] => objects.filter((o) => o.type === 'message' && o.dir === dir && o.msg !== 'SSLRequest' && o.msg !== 'SSLResponse').map(({ time: _t, ts: _ts, offset: _o, ...rest }) => rest);
  return { frontend: of('frontend'), backend: of('backend') };
};

/** The same conversation, captured in plaintext. */
function plaintextChunks(): Chunk[] {
  const out: Chunk[] = [];
  TURNS.forEach((x, i) => {
    out.push({ side: 'client', bytes: x.client, time: T0 + 2 * i });
    if (x.server.length > 0) out.push({ side: 'server', bytes: x.server, time: T0 + 2 * i + 1 });
  });
  return out;
}

const SETUPS: Setup[] = [
  { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', cert: 'rsa' },
  { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', cert: 'ec' },
  { version: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', cert: 'rsa' },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', cert: 'rsa' },
  { version: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384', cert: 'ec' },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-CHACHA20-POLY1305', cert: 'rsa' },
];

describe('TLS in captures, decrypted with key logs', () => {
  let plain: Record<string, unknown[]>;
  before(async () => {
    plain = messages((await readChunks(plaintextChunks(), null)).objects);
    assert.deepEqual([plain['frontend']!.length, plain['backend']!.length], [5, 13], 'the plaintext conversation decodes');
  });

  for (const setup of SETUPS) {
    for (const direct of [false, true]) {
      it(`${setup.version} ${setup.cipher} (${setup.cert} certificate)${direct ? ', direct TLS' : ', after SSLRequest'}: the same messages as in plaintext, and the TLS facts`, async () => {
        const rec = await record(setup, direct);
        assert.equal(rec.protocol, setup.version);
        assert.equal(rec.cipher, setup.cipher);
        const { objects, notes } = await readChunks(rec.chunks, rec.keylog);
        assert.deepEqual(notes, [], 'nothing to warn of');
        assert.deepEqual(messages(objects), plain);
        const tls = objects.find((o) => o.type === 'connection' && o.phase === 'client-tls');
        assert.ok(tls, 'a client-tls fact');
        assert.deepEqual(tls.tls, { protocol: setup.version, cipher: setup.cipher, sni: 'db.example', alpn: 'postgresql' });
        assert.equal(tls.direct, direct);
        assert.ok(objects.some((o) => o.type === 'connection' && o.phase === 'server-tls'));
        const status = objects.filter((o) => o.type === 'status').map((o) => o.text);
        assert.deepEqual(status, ["connection 1: the server's certificate: CN=db.example"]);
        assert.equal(objects.filter((o) => o.type === 'statement').length, 3);
      });
    }
  }

  it('records split at every byte boundary across segments are put together', async () => {
    const rec = await record(SETUPS[0]!, false);
    // Every chunk in pieces of 7 bytes: records and TLS headers straddle segments.
    const pieces: Chunk[] = rec.chunks.flatMap((c) => Array.from({ length: Math.ceil(c.bytes.length / 7) }, (_, i) => ({ ...c, bytes: c.bytes.subarray(i * 7, i * 7 + 7) })));
    const { objects, notes } = await readChunks(pieces, rec.keylog);
    assert.deepEqual(notes, []);
    assert.deepEqual(messages(objects), plain);
  });

  it('without a key log: says it is encrypted and what the handshake shows; the bytes are shown undecoded', async () => {
    const rec = await record(SETUPS[3]!, false);
    const { objects, notes } = await readChunks(rec.chunks, null);
    assert.deepEqual(notes, ['connection 1 is TLS-encrypted (TLSv1.2, ECDHE-RSA-AES128-GCM-SHA256, SNI db.example, ALPN postgresql): no key log was given (--keylog FILE; libpq 18 writes one with sslkeylogfile=FILE); its messages cannot be read']);
    assert.deepEqual(
      objects.filter((o) => o.type === 'message').map((o) => o.msg),
      ['SSLRequest', 'SSLResponse'],
    );
    const unparsed = objects.filter((o) => o.type === 'unparsed');
    assert.ok(unparsed.length > 0 && unparsed.every((o) => o.reason === 'TLS-encrypted, no key to decrypt it'), 'the encrypted bytes, labelled');
    const tls = objects.find((o) => o.type === 'connection' && o.phase === 'client-tls');
    assert.deepEqual(tls?.tls, { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', sni: 'db.example', alpn: 'postgresql' });
  });

  it('TLS 1.3 without the key: the version and cipher, SNI and the ALPN offered (the chosen one is encrypted)', async () => {
    const rec = await record(SETUPS[1]!, true);
    const { notes } = await readChunks(rec.chunks, '# an empty key log\n');
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /^connection 1 is TLS-encrypted \(TLSv1\.3, TLS_AES_256_GCM_SHA384, SNI db\.example, ALPN offered postgresql\): the key log \(.*\) has no secret for its client random [0-9a-f]{16}…; its messages cannot be read$/);
  });

  it('a capture that joins a TLS connection after its handshake: said, its bytes shown undecoded', async () => {
    const rec = await record(SETUPS[0]!, true);
    const frames = tcpFrames([{ client: { ip: '10.0.0.1', port: 50000 }, server: { ip: '10.0.0.2', port: 5432 }, chunks: rec.chunks }]);
    // From the client's first application-data record on: no SYN, no ClientHello, no ServerHello.
    // (Ethernet 14 + IPv4 20 + TCP 20 bytes of headers: the payload starts at 54.)
    const at = frames.findIndex((f) => f.frame.length > 57 && f.frame.subarray(54, 57).equals(Buffer.from([0x17, 0x03, 0x03])));
    assert.ok(at > 0);
    const pcapng = join(dir, `joined.pcapng`);
    writeFileSync(pcapng, framesPcapng(frames.slice(at)));
    const c = (await readCapture(pcapng, { redact: false, keys: null })) as unknown as { objects: Obj[]; notes: string[] };
    assert.ok(c.notes.some((n) => /^connection 1: the (client|server) sent encrypted TLS records, but the TLS handshake is not in the capture$/.test(n)), c.notes.join('\n'));
    assert.equal(c.objects.filter((o) => o.type === 'message').length, 0, 'nothing made up');
    assert.ok(c.objects.some((o) => o.type === 'unparsed' && o.reason === 'TLS-encrypted, not decrypted'));
  });

  it("another connection's secrets: the record that does not decrypt is named, nothing is made up", async () => {
    const a = await record(SETUPS[0]!, false);
    const b = await record(SETUPS[0]!, false);
    // b's secrets filed under a's client random.
    const randomOf = (k: string): string => k.split('\n')[0]!.split(' ')[1]!;
    const wrong = b.keylog.replaceAll(randomOf(b.keylog), randomOf(a.keylog));
    const { objects, notes } = await readChunks(a.chunks, wrong);
    assert.ok(notes.some((n) => /^connection 1: a record from the server did not decrypt \(.+\): the key log's secrets are not this connection's$/.test(n)), notes.join('\n'));
    assert.deepEqual(
      objects.filter((o) => o.type === 'message').map((o) => o.msg),
      ['SSLRequest', 'SSLResponse'],
    );
  });
});
