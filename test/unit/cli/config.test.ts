import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildConfig,
  ConfigError,
  DEFAULTS,
  parseBackend,
  parsePort,
  parsePositiveInt,
  resolveColour,
  validateConfig,
  type Config,
} from '../../../src/app/config.js';

describe('DEFAULTS', () => {
  it('are Elephantshark\'s defaults (peers.md) plus pgMitm\'s off switches', () => {
    assert.deepEqual(DEFAULTS, {
      serverHost: null,
      serverDeleteSuffix: '.local.neon.build',
      clientListenIp: '127.0.0.1',
      clientListenPort: 5432,
      serverConnectPort: 5432,
      serverSslmode: 'prefer',
      serverSslrootcert: null,
      serverSslnegotiation: 'mimic',
      sendChunking: 'whole',
      clientSslCert: null,
      clientSslKey: null,
      clientCertSig: 'rsa',
      clientDenySsl: false,
      logCerts: false,
      logForwarded: 'annotated',
      quitOnHangup: false,
      maxConnections: null,
      clientSslkeylogfile: null,
      serverSslkeylogfile: null,
      allowSelfLoop: false,
      colour: false,
      logfile: null,
      clearLogfile: false,
      verbose: false,
      maxValueBytes: 256,
      demo: false,
      overrideAuth: false,
      serverChannelBinding: 'prefer',
      redactPasswords: false,
      clientCa: false,
      caDir: null,
      jsonl: null,
      pcap: null,
      queryLog: null,
      filter: null,
      fault: [],
      summary: false,
      lossless: false,
      inlineDecoding: false,
      ui: false,
      uiPort: 0,
      uiHost: '127.0.0.1',
      uiKeep: 20_000,
    } satisfies Config);
  });

  it('cannot be changed by accident', () => {
    assert.ok(Object.isFrozen(DEFAULTS));
  });

  it('pass validateConfig unchanged', () => {
    assert.deepEqual(validateConfig(DEFAULTS), DEFAULTS);
  });
});

describe('parseBackend', () => {
  const ok: [string, { host: string; port: number | null }][] = [
    ['db.example.com', { host: 'db.example.com', port: null }],
    ['db.example.com:6543', { host: 'db.example.com', port: 6543 }],
    ['10.0.0.7:5432', { host: '10.0.0.7', port: 5432 }],
    ['10.0.0.7', { host: '10.0.0.7', port: null }],
    ['[::1]:6543', { host: '::1', port: 6543 }],
    ['[::1]', { host: '::1', port: null }],
    ['::1', { host: '::1', port: null }],
    ['fe80::1', { host: 'fe80::1', port: null }],
    ['[fe80::1%eth0]:5433', { host: 'fe80::1%eth0', port: 5433 }],
    ['h:1', { host: 'h', port: 1 }],
    ['h:65535', { host: 'h', port: 65535 }],
  ];
  for (const [spec, want] of ok) {
    it(`reads ${spec}`, () => assert.deepEqual(parseBackend(spec), want));
  }

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['h:', /port number 1\.\.65535.*got ""/],
    [':5432', /no host before the colon/],
    ['h:0', /port number 1\.\.65535.*got "0"/],
    ['h:65536', /got "65536"/],
    ['h:54x', /got "54x"/],
    ['h:-1', /got "-1"/],
    ['[::1', /unbalanced brackets/],
    ['::1]', /unbalanced brackets/],
    ['[::1]x', /unbalanced brackets/],
    ['[::1]:', /got ""/],
    ['[db.example.com]:5432', /not an IPv6 address/],
    ['a:b:c', /not an IPv6 address.*\[address\]:port/],
    ['db example', /white space/],
  ];
  for (const [spec, want] of bad) {
    it(`rejects ${JSON.stringify(spec)}`, () => {
      assert.throws(() => parseBackend(spec), (e: unknown) => e instanceof ConfigError && want.test(e.message) && e.message.startsWith('BACKEND '));
    });
  }
});

describe('single values', () => {
  it('ports: decimal digits in range only', () => {
    assert.equal(parsePort('--x', '1'), 1);
    assert.equal(parsePort('--x', '65535'), 65535);
    assert.equal(parsePort('--x', '0', true), 0);
    for (const v of ['0', '65536', '', ' 1', '1.0', '+1', '0x10', '1e3', '-1', '999999']) {
      assert.throws(() => parsePort('--x', v), /^ConfigError: --x: expected a port number 1\.\.65535; got /, v);
    }
  });

  it('positive whole numbers', () => {
    assert.equal(parsePositiveInt('--n', '1'), 1);
    assert.equal(parsePositiveInt('--n', '1048576'), 1048576);
    for (const v of ['0', '-3', '1.5', '', 'ten', '1e3', '99999999999999999999']) {
      assert.throws(() => parsePositiveInt('--n', v), /--n: expected a positive whole number/, v);
    }
  });
});

describe('resolveColour', () => {
  const cases: [boolean | undefined, Record<string, string>, boolean, boolean][] = [
    // bw, env, isTTY, colour
    [true, { FORCE_COLOR: '1' }, true, false],
    [false, { NO_COLOR: '1' }, false, true],
    [undefined, {}, true, true],
    [undefined, {}, false, false],
    [undefined, { FORCE_COLOR: '1' }, false, true],
    [undefined, { FORCE_COLOR: '3' }, false, true],
    [undefined, { FORCE_COLOR: '0' }, true, true], // "0" is not forcing; the terminal decides
    [undefined, { FORCE_COLOR: '0' }, false, false],
    [undefined, { FORCE_COLOR: '' }, false, false],
    [undefined, { NO_COLOR: '1' }, true, false],
    [undefined, { NO_COLOR: '' }, true, true],
    [undefined, { NO_COLOR: '1', FORCE_COLOR: '1' }, false, true],
  ];
  for (const [bw, env, tty, want] of cases) {
    it(`bw=${bw} env=${JSON.stringify(env)} tty=${tty} → ${want}`, () => assert.equal(resolveColour(bw, env, tty), want));
  }
});

describe('validateConfig', () => {
  const withc = (p: Partial<Config>): Config => ({ ...DEFAULTS, ...p });
  const rejects = (c: Config, re: RegExp, given?: ReadonlySet<keyof Config>) =>
    assert.throws(() => validateConfig(c, given), (e: unknown) => e instanceof ConfigError && re.test(e.message));

  it('sslrootcert=system raises the default sslmode to verify-full, as libpq', () => {
    const c = withc({ serverSslrootcert: 'system' });
    assert.equal(validateConfig(c).serverSslmode, 'verify-full');
    assert.equal(validateConfig(c, new Set(['serverSslrootcert'])).serverSslmode, 'verify-full');
    assert.equal(c.serverSslmode, 'prefer', 'the argument is not modified');
  });

  it('sslrootcert=system with a weaker sslmode the user chose is an error naming both options', () => {
    for (const mode of ['disable', 'prefer', 'require', 'verify-ca'] as const) {
      rejects(withc({ serverSslrootcert: 'system', serverSslmode: mode }), new RegExp(`--server-sslmode ${mode} may not be used with --server-sslrootcert system`), new Set(['serverSslmode', 'serverSslrootcert']));
    }
    // Without `given`, a mode other than the default counts as chosen.
    rejects(withc({ serverSslrootcert: 'system', serverSslmode: 'require' }), /--server-sslmode require/);
    assert.equal(validateConfig(withc({ serverSslrootcert: 'system', serverSslmode: 'verify-full' })).serverSslmode, 'verify-full');
  });

  it('a root certificate path leaves the sslmode alone', () => {
    assert.equal(validateConfig(withc({ serverSslrootcert: '/etc/ca.pem' })).serverSslmode, 'prefer');
  });

  it('certificate and key come together', () => {
    rejects(withc({ clientSslCert: 'c.pem' }), /--client-ssl-cert needs --client-ssl-key/);
    rejects(withc({ clientSslKey: 'k.pem' }), /--client-ssl-key needs --client-ssl-cert/);
    assert.equal(validateConfig(withc({ clientSslCert: 'c.pem', clientSslKey: 'k.pem' })).clientSslKey, 'k.pem');
  });

  it('-c needs -l', () => {
    rejects(withc({ clearLogfile: true }), /-c\/--clear needs -l\/--logfile/);
    assert.ok(validateConfig(withc({ clearLogfile: true, logfile: 'x.log' })).clearLogfile);
  });

  it('direct TLS negotiation contradicts sslmode disable', () => {
    rejects(withc({ serverSslmode: 'disable', serverSslnegotiation: 'direct' }), /--server-sslnegotiation direct.*--server-sslmode disable/);
    assert.ok(validateConfig(withc({ serverSslmode: 'require', serverSslnegotiation: 'direct' })));
  });

  it('checks single values of Configs built in code', () => {
    rejects(withc({ clientListenPort: 70000 }), /--client-listen-port: expected a port number 0\.\.65535; got 70000/);
    rejects(withc({ clientListenPort: 1.5 }), /--client-listen-port/);
    rejects(withc({ serverConnectPort: 0 }), /--server-connect-port: expected a port number 1\.\.65535; got 0/);
    rejects(withc({ serverSslmode: 'allow' as never }), /--server-sslmode: expected one of disable, prefer, require, verify-ca, verify-full; got "allow"/);
    rejects(withc({ logForwarded: 'json' as never }), /--log-forwarded: expected one of none, raw, annotated/);
    rejects(withc({ maxValueBytes: 0 }), /--max-value-bytes/);
    rejects(withc({ clientListenIp: 'localhost' }), /--client-listen-ip: expected an IPv4 or IPv6 address/);
    rejects(withc({ serverHost: '' }), /--server-host/);
    rejects(withc({ logfile: '' }), /--logfile: expected a value/);
    assert.equal(validateConfig(withc({ clientListenPort: 0 })).clientListenPort, 0, 'listen port 0 = any free port');
  });
});

describe('buildConfig', () => {
  it('fills defaults and resolves colour and the summary (on for a terminal)', () => {
    assert.deepEqual(buildConfig({}, {}, false), DEFAULTS);
    assert.deepEqual(buildConfig({}, {}, true), { ...DEFAULTS, colour: true, summary: true });
    assert.equal(buildConfig({ bw: true }, { FORCE_COLOR: '1' }, true).colour, false);
  });

  it('applies BACKEND; a port in it conflicts with --server-connect-port, a bare host does not', () => {
    assert.deepEqual(buildConfig({ backend: 'db:6000' }, {}, false), { ...DEFAULTS, serverHost: 'db', serverConnectPort: 6000 });
    assert.deepEqual(buildConfig({ backend: 'db', serverConnectPort: 6001 }, {}, false), { ...DEFAULTS, serverHost: 'db', serverConnectPort: 6001 });
    assert.throws(() => buildConfig({ backend: 'db:6000', serverConnectPort: 6001 }, {}, false), /BACKEND \(db:6000\) or with --server-connect-port/);
    assert.throws(() => buildConfig({ backend: 'db', serverHost: 'other' }, {}, false), /BACKEND or with --server-host, not both/);
  });

  it('accepts override-auth, channel binding and redaction', () => {
    const c = buildConfig({ overrideAuth: true, redactPasswords: true, serverChannelBinding: 'require' }, {}, false);
    assert.deepEqual([c.overrideAuth, c.redactPasswords, c.serverChannelBinding], [true, true, 'require']);
    assert.deepEqual(buildConfig({ overrideAuth: false, redactPasswords: false }, {}, false), DEFAULTS);
  });

  it('an explicit --server-sslmode counts as chosen even when it is the default value', () => {
    assert.throws(() => buildConfig({ serverSslmode: 'prefer', serverSslrootcert: 'system' }, {}, false), /--server-sslmode prefer may not be used/);
    assert.equal(buildConfig({ serverSslrootcert: 'system' }, {}, false).serverSslmode, 'verify-full');
  });
});
