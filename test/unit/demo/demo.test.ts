/**
 * The pure parts of `pgscope --demo`: the banner and the command it tells users to paste,
 * and which options --demo refuses. (Running it end to end: test/e2e/demo.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig, ConfigError, DEFAULTS } from '../../../src/app/config.js';
import { clientHost, demoBanner, psqlCommand, type BannerInfo } from '../../../src/app/demo.js';

const info: BannerInfo = {
  version: 'PostgreSQL 18.4',
  serverPort: 41234,
  baseDir: '/tmp/pgscope-demo-AbC123',
  listenIp: '127.0.0.1',
  listenPort: 5432,
  user: 'postgres',
  password: 'Xy3kPq9RmT4vWz2bNc7d',
  database: 'demo',
  clientPlaintext: false,
  readyAfter: 2.04,
};

describe('--demo banner', () => {
  it('gives a psql command that works as pasted: TLS, no channel binding, the password in the environment', () => {
    assert.equal(psqlCommand(info), 'PGPASSWORD=Xy3kPq9RmT4vWz2bNc7d psql "host=localhost port=5432 user=postgres dbname=demo sslmode=require channel_binding=disable"');
    assert.equal(psqlCommand({ ...info, clientPlaintext: true, listenPort: 6432 }), 'PGPASSWORD=Xy3kPq9RmT4vWz2bNc7d psql "host=localhost port=6432 user=postgres dbname=demo sslmode=disable channel_binding=disable"');
  });

  it('with --override-auth, keeps psql\'s channel_binding default (pgscope authenticates to the server itself)', () => {
    assert.equal(psqlCommand({ ...info, overrideAuth: true }), 'PGPASSWORD=Xy3kPq9RmT4vWz2bNc7d psql "host=localhost port=5432 user=postgres dbname=demo sslmode=require"');
    assert.match(demoBanner({ ...info, overrideAuth: true }), /--override-auth/);
    assert.doesNotMatch(demoBanner({ ...info, overrideAuth: true }), /channel_binding=disable/);
  });

  it('names localhost for loopback and wildcard addresses, else the address itself', () => {
    for (const ip of ['127.0.0.1', '0.0.0.0', '::', '::1']) assert.equal(clientHost(ip), 'localhost');
    assert.equal(clientHost('192.0.2.7'), '192.0.2.7');
    assert.match(demoBanner({ ...info, listenIp: '2001:db8::1' }), /@\[2001:db8::1\]:5432\/demo\?/);
  });

  it('says what runs where, the folder, the password, why channel_binding=disable, and how to stop', () => {
    const b = demoBanner(info);
    assert.ok(b.includes(`\n  ${psqlCommand(info)}\n`), b);
    assert.match(b, /a throwaway PostgreSQL 18\.4 server runs on 127\.0\.0\.1:41234/);
    assert.match(b, /its files are in \/tmp\/pgscope-demo-AbC123, deleted when pgscope stops/);
    assert.match(b, /pgscope listens on 127\.0\.0\.1:5432/);
    assert.match(b, /password Xy3kPq9RmT4vWz2bNc7d/);
    assert.match(b, /channel_binding=disable because SCRAM channel binding exists to detect a man in the middle/);
    assert.match(b, /Ready after 2\.0 s\. Ctrl-C stops pgscope and the server/);
  });
});

describe('--demo and the server options', () => {
  const build = (flags: Parameters<typeof buildConfig>[0]) => buildConfig(flags, {}, false);

  it('combines with the client-side and logging options', () => {
    const c = build({ demo: true, clientListenPort: 0, logForwarded: 'raw', verbose: true, clientDenySsl: true });
    assert.deepEqual(c, { ...DEFAULTS, demo: true, clientListenPort: 0, logForwarded: 'raw', verbose: true, clientDenySsl: true });
  });

  it('refuses BACKEND and the server-leg options it sets itself', () => {
    for (const [flags, named] of [
      [{ backend: 'db' }, 'BACKEND'],
      [{ serverHost: 'db' }, '--server-host'],
      [{ serverConnectPort: 5432 }, '--server-connect-port'],
      [{ serverSslmode: 'verify-full' }, '--server-sslmode'],
      [{ serverSslrootcert: 'system' }, '--server-sslrootcert'],
      [{ serverDeleteSuffix: '.x' }, '--server-delete-suffix'],
    ] as const) {
      assert.throws(() => build({ demo: true, ...flags }), (e: unknown) => e instanceof ConfigError && e.message === `--demo starts its own server and connects to it itself: leave out ${named}`);
    }
    assert.throws(() => build({ demo: true, backend: 'db:5433' }), /leave out BACKEND, --server-connect-port$/);
  });
});
