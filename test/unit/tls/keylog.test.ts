import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { GeneratedCertificates } from '../../../src/tls/certificates.js';
import { TlsSetupError } from '../../../src/tls/errors.js';
import { openKeyLog } from '../../../src/tls/keylog.js';
import { startTlsServer, TempDir } from './tls-helpers.js';

const NSS_LINE = /^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,}$/;

describe('openKeyLog', () => {
  let tmp: TempDir;
  before(() => {
    tmp = new TempDir();
  });
  after(() => tmp.remove());

  it('creates the file with mode 0600 and appends lines, adding a missing newline', () => {
    const path = tmp.path('new.keys');
    const kl = openKeyLog(path);
    assert.equal(kl.path, path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    kl.write(Buffer.from('CLIENT_RANDOM aa bb\n'));
    // Synchronous: on disk before close.
    assert.equal(readFileSync(path, 'utf8'), 'CLIENT_RANDOM aa bb\n');
    kl.write(Buffer.from('CLIENT_RANDOM cc dd'));
    kl.write(Buffer.alloc(0));
    kl.close();
    kl.close();
    kl.write(Buffer.from('ignored after close\n'));
    assert.equal(readFileSync(path, 'utf8'), 'CLIENT_RANDOM aa bb\nCLIENT_RANDOM cc dd\n');
  });

  it('refuses to follow a symbolic link (one planted in /tmp could send the secrets elsewhere)', () => {
    const target = tmp.path('elsewhere.log');
    writeFileSync(target, '');
    const link = tmp.path('planted.log');
    symlinkSync(target, link);
    assert.throws(() => openKeyLog(link), (e: unknown) => e instanceof TlsSetupError && /symbolic link/.test(e.message));
    assert.equal(readFileSync(target, 'utf8'), '');
  });

  it('appends to an existing file and makes it owner-only (it holds session secrets)', () => {
    const path = tmp.write('old.keys', '# old line\n');
    chmodSync(path, 0o640);
    const kl = openKeyLog(path);
    kl.write(Buffer.from('CLIENT_RANDOM 11 22\n'));
    kl.close();
    assert.equal(readFileSync(path, 'utf8'), '# old line\nCLIENT_RANDOM 11 22\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    // Two writers on one file (client and server legs) both append.
    const a = openKeyLog(path);
    const b = openKeyLog(path);
    a.write(Buffer.from('A\n'));
    b.write(Buffer.from('B\n'));
    a.write(Buffer.from('C\n'));
    a.close();
    b.close();
    assert.equal(readFileSync(path, 'utf8'), '# old line\nCLIENT_RANDOM 11 22\nA\nB\nC\n');
  });

  it('refuses paths it cannot open, naming them', () => {
    const inMissingDir = tmp.path('no/such/dir/keys');
    assert.throws(() => openKeyLog(inMissingDir), (err: Error) => err instanceof TlsSetupError && err.message === `cannot open TLS key log file "${inMissingDir}": its directory does not exist`);
    assert.throws(() => openKeyLog(tmp.dir), (err: Error) => err instanceof TlsSetupError && err.message.includes(`"${tmp.dir}"`));
  });

  it('never throws on a failed write; reports the first failure once', () => {
    const errors: Error[] = [];
    const kl = openKeyLog('/dev/full', { onError: (e) => errors.push(e) });
    kl.write(Buffer.from('CLIENT_RANDOM 00 11\n'));
    kl.write(Buffer.from('CLIENT_RANDOM 22 33\n'));
    kl.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /^writing TLS key log file "\/dev\/full" failed: ENOSPC/);
  });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`records a real ${version} connection's secrets as the proxy wires it`, async () => {
      const pair = await new GeneratedCertificates('ecdsa').forName(null);
      const path = tmp.path(`real-${version}.keys`);
      writeFileSync(path, '');
      const kl = openKeyLog(path);
      const server = await startTlsServer({ cert: pair.certPem, key: pair.keyPem, maxVersion: version });
      const lines: Buffer[] = [];
      let s: TLSSocket | null = null;
      try {
        s = await new Promise<TLSSocket>((resolve, reject) => {
          const c = connect({ host: '127.0.0.1', port: server.port, ca: pair.certPem, maxVersion: version });
          // What the proxy does: every 'keylog' line straight to the writer.
          c.on('keylog', (line) => {
            lines.push(line);
            kl.write(line);
          });
          c.once('secureConnect', () => resolve(c));
          c.once('error', reject);
        });
        assert.equal(s.getProtocol(), version);
        assert.equal(s.authorized, true);
      } finally {
        s?.destroy();
        await server.close();
        kl.close();
      }
      const text = readFileSync(path, 'utf8');
      const fileLines = text.split('\n');
      assert.equal(fileLines.pop(), '', 'ends with a newline');
      assert.ok(fileLines.length > 0);
      for (const l of fileLines) assert.match(l, NSS_LINE);
      assert.equal(text, Buffer.concat(lines).toString('utf8'));
      if (version === 'TLSv1.3') {
        assert.ok(fileLines.some((l) => l.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET ')));
        assert.ok(fileLines.some((l) => l.startsWith('SERVER_TRAFFIC_SECRET_0 ')));
      } else {
        assert.deepEqual(fileLines.map((l) => l.split(' ')[0]), ['CLIENT_RANDOM']);
      }
    });
  }
});
