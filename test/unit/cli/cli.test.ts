import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { main, proxyRunnerFrom, type CliIO, type ProxyRunner } from '../../../src/app/cli.js';
import { ConfigError, DEFAULTS, type Config } from '../../../src/app/config.js';

interface Run {
  code: number;
  out: string;
  err: string;
  /** The Configs the (fake) proxy runner received. */
  configs: Config[];
}

/** Runs main with captured output and a fake proxy runner (the CLI's boundary). */
async function run(argv: string[], io: Partial<CliIO> = {}): Promise<Run> {
  const r: Run = { code: -1, out: '', err: '', configs: [] };
  const runProxy: ProxyRunner = async (c) => {
    r.configs.push(c);
    return 0;
  };
  r.code = await main(argv, {
    out: (s) => void (r.out += s),
    err: (s) => void (r.err += s),
    env: {},
    stdoutIsTTY: false,
    runProxy,
    ...io,
  });
  return r;
}

/** The Config the proxy would run with, asserting success. */
async function configOf(argv: string[], io: Partial<CliIO> = {}): Promise<Config> {
  const r = await run(argv, io);
  assert.equal(r.err, '', `no error for ${argv.join(' ')}`);
  assert.equal(r.code, 0);
  assert.equal(r.configs.length, 1);
  return r.configs[0]!;
}

/** A usage error: status 2, exactly one line `pgscope: …` on err matching `re`, nothing run. */
async function usageError(argv: string[], re: RegExp): Promise<void> {
  const r = await run(argv);
  assert.equal(r.code, 2, `status for ${JSON.stringify(argv)}`);
  assert.equal(r.configs.length, 0, 'the proxy is not started');
  assert.equal(r.out, '');
  assert.match(r.err, /^pgscope: [^\n]+\n$/, `one line for ${JSON.stringify(argv)}: ${JSON.stringify(r.err)}`);
  assert.match(r.err, re);
}

describe('pgscope (proxy): flags → Config', () => {
  it('no flags: the defaults', async () => {
    assert.deepEqual(await configOf([]), DEFAULTS);
  });

  it('every option with a value', async () => {
    const c = await configOf([
      '--server-host', 'db.internal',
      '--server-delete-suffix', '.example.test',
      '--client-listen-ip', '::1',
      '--client-listen-port', '6432',
      '--server-connect-port', '6543',
      '--server-sslmode', 'verify-ca',
      '--server-sslrootcert', '/etc/ssl/root.pem',
      '--server-sslnegotiation', 'direct',
      '--send-chunking', 'byte',
      '--client-ssl-cert', 'c.pem',
      '--client-ssl-key', 'k.pem',
      '--client-cert-sig', 'ecdsa',
      '--client-deny-ssl',
      '--log-certs',
      '--log-forwarded', 'raw',
      '--quit-on-hangup',
      '--max-connections', '50',
      '--client-sslkeylogfile', 'client.keys',
      '--server-sslkeylogfile', 'server.keys',
      '--allow-self-loop',
      '--no-bw',
      '--logfile', 'out.log',
      '--clear',
      '--verbose',
      '--max-value-bytes', '1024',
      '--override-auth',
      '--server-channel-binding', 'require',
      '--redact-passwords',
      '--ca-dir', '/tmp/ca',
      '--jsonl', 'out.jsonl',
      '--pcap', 'out.pcapng',
      '--query-log', 'queries.log',
      '--filter', 'queries',
      '--fault', 'delay 5ms when client',
      '--fault', 'error 40001 once',
      '--summary',
      '--lossless',
      '--inline-decoding',
      '--ui',
      '--ui-port', '8123',
      '--ui-host', '::1',
      '--ui-keep', '500',
    ]);
    assert.deepEqual(c, {
      serverHost: 'db.internal',
      serverDeleteSuffix: '.example.test',
      clientListenIp: '::1',
      clientListenPort: 6432,
      serverConnectPort: 6543,
      serverSslmode: 'verify-ca',
      serverSslrootcert: '/etc/ssl/root.pem',
      serverSslnegotiation: 'direct',
      sendChunking: 'byte',
      clientSslCert: 'c.pem',
      clientSslKey: 'k.pem',
      clientCertSig: 'ecdsa',
      clientDenySsl: true,
      logCerts: true,
      logForwarded: 'raw',
      quitOnHangup: true,
      maxConnections: 50,
      clientSslkeylogfile: 'client.keys',
      serverSslkeylogfile: 'server.keys',
      allowSelfLoop: true,
      colour: true,
      logfile: 'out.log',
      clearLogfile: true,
      verbose: true,
      maxValueBytes: 1024,
      demo: false,
      overrideAuth: true,
      serverChannelBinding: 'require',
      redactPasswords: true,
      clientCa: false,
      caDir: '/tmp/ca',
      jsonl: 'out.jsonl',
      pcap: 'out.pcapng',
      queryLog: 'queries.log',
      filter: 'queries',
      fault: ['delay 5ms when client', 'error 40001 once'],
      summary: true,
      lossless: true,
      inlineDecoding: true,
      ui: true,
      uiPort: 8123,
      uiHost: '::1',
      uiKeep: 500,
    } satisfies Config);
  });

  it('--demo with the options that still make sense for it', async () => {
    const c = await configOf(['--demo', '-p', '0', '--log-forwarded', 'raw', '--send-chunking', 'byte']);
    assert.deepEqual([c.demo, c.clientListenPort, c.logForwarded, c.sendChunking], [true, 0, 'raw', 'byte']);
  });

  it('--demo refuses server-leg options: it runs its own server', async () => {
    await usageError(['--demo', '--server-host', 'db'], /--demo starts its own server/);
  });

  it('every allowed value of each enumerated option', async () => {
    const lists: [string, keyof Config, string[]][] = [
      ['--server-sslmode', 'serverSslmode', ['disable', 'prefer', 'require', 'verify-ca', 'verify-full']],
      ['--server-sslnegotiation', 'serverSslnegotiation', ['mimic', 'direct', 'postgres']],
      ['--send-chunking', 'sendChunking', ['whole', 'byte']],
      ['--client-cert-sig', 'clientCertSig', ['rsa', 'ecdsa']],
      ['--log-forwarded', 'logForwarded', ['none', 'raw', 'annotated', 'compact']],
    ];
    for (const [flag, key, values] of lists) {
      for (const v of values) {
        const extra = flag === '--server-sslnegotiation' ? ['--server-sslmode', 'require'] : [];
        assert.equal((await configOf([flag, v, ...extra]))[key], v, `${flag} ${v}`);
      }
    }
  });

  it('short options and attached values (pgMitm style)', async () => {
    const c = await configOf(['-p', '6432', '-l', 'pg.log', '-c', '-v']);
    assert.deepEqual([c.clientListenPort, c.logfile, c.clearLogfile, c.verbose], [6432, 'pg.log', true, true]);
    const d = await configOf(['-p6433', '--logfile=x.log', '--server-sslmode=require', '--max-value-bytes=9']);
    assert.deepEqual([d.clientListenPort, d.logfile, d.serverSslmode, d.maxValueBytes], [6433, 'x.log', 'require', 9]);
  });

  it('listen port 0 (any free port) is allowed', async () => {
    assert.equal((await configOf(['-p', '0'])).clientListenPort, 0);
  });

  it('an empty --server-delete-suffix is allowed (nothing is removed)', async () => {
    assert.equal((await configOf(['--server-delete-suffix', ''])).serverDeleteSuffix, '');
  });

  it('--[no-] forms of every boolean; the last one given wins', async () => {
    const bools: [string, keyof Config][] = [
      ['client-deny-ssl', 'clientDenySsl'],
      ['log-certs', 'logCerts'],
      ['quit-on-hangup', 'quitOnHangup'],
      ['allow-self-loop', 'allowSelfLoop'],
    ];
    for (const [name, key] of bools) {
      assert.equal((await configOf([`--${name}`]))[key], true, name);
      assert.equal((await configOf([`--no-${name}`]))[key], false, `no-${name}`);
      assert.equal((await configOf([`--${name}`, `--no-${name}`]))[key], false, `${name} then no-${name}`);
      assert.equal((await configOf([`--no-${name}`, `--${name}`]))[key], true, `no-${name} then ${name}`);
    }
    assert.deepEqual(await configOf(['--no-override-auth', '--no-redact-passwords', '--no-client-ca', '--no-summary']), DEFAULTS);
  });

  it('BACKEND forms', async () => {
    const cases: [string, string, number][] = [
      ['db.example.com', 'db.example.com', 5432],
      ['db.example.com:6543', 'db.example.com', 6543],
      ['[::1]:6543', '::1', 6543],
      ['[::1]', '::1', 5432],
      ['::1', '::1', 5432],
      ['fe80::1', 'fe80::1', 5432],
      ['192.0.2.1:7000', '192.0.2.1', 7000],
    ];
    for (const [spec, host, port] of cases) {
      const c = await configOf([spec]);
      assert.deepEqual([c.serverHost, c.serverConnectPort], [host, port], spec);
    }
    const c = await configOf(['-p', '6432', 'db:7000', '--verbose']);
    assert.deepEqual([c.serverHost, c.serverConnectPort, c.clientListenPort, c.verbose], ['db', 7000, 6432, true]);
    assert.equal((await configOf(['db', '--server-connect-port', '7001'])).serverConnectPort, 7001);
  });

  it('--server-sslrootcert system raises the default sslmode to verify-full', async () => {
    assert.equal((await configOf(['--server-sslrootcert', 'system'])).serverSslmode, 'verify-full');
    assert.equal((await configOf(['--server-sslrootcert', 'system', '--server-sslmode', 'verify-full'])).serverSslmode, 'verify-full');
  });
});

describe('pgscope (proxy): mistakes → one line, status 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['bad listen port', ['-p', '70000'], /--client-listen-port: expected a port number 0\.\.65535; got "70000"/],
    ['non-numeric listen port', ['--client-listen-port', 'http'], /--client-listen-port: .*got "http"/],
    ['bad connect port', ['--server-connect-port', '0'], /--server-connect-port: expected a port number 1\.\.65535; got "0"/],
    ['bad sslmode', ['--server-sslmode', 'bogus'], /--server-sslmode: expected one of disable, prefer, require, verify-ca, verify-full; got "bogus"/],
    ['bad sslnegotiation', ['--server-sslnegotiation', 'tls'], /--server-sslnegotiation: expected one of mimic, direct, postgres/],
    ['bad send-chunking', ['--send-chunking', 'line'], /--send-chunking: expected one of whole, byte/],
    ['bad cert sig', ['--client-cert-sig', 'dsa'], /--client-cert-sig: expected one of rsa, ecdsa/],
    ['bad log-forwarded', ['--log-forwarded', 'json'], /--log-forwarded: expected one of none, raw, annotated/],
    ['bad max-value-bytes', ['--max-value-bytes', '0'], /--max-value-bytes: expected a positive whole number; got "0"/],
    ['bad listen ip', ['--client-listen-ip', 'localhost'], /--client-listen-ip: expected an IPv4 or IPv6 address/],
    ['empty server host', ['--server-host', ''], /--server-host: expected a value/],
    ['unknown flag', ['--frobnicate'], /unknown option '--frobnicate'/],
    ['unknown short flag', ['-x'], /unknown option '-x'/],
    ['missing value', ['--server-host'], /--server-host <host>' argument missing/],
    ['missing value at the end', ['-p', '6432', '--server-sslmode'], /--server-sslmode <mode>' argument missing/],
    ['a boolean given a value', ['--demo=yes'], /--demo/],
    ['cert without key', ['--client-ssl-cert', 'c.pem'], /--client-ssl-cert needs --client-ssl-key/],
    ['key without cert', ['--client-ssl-key', 'k.pem'], /--client-ssl-key needs --client-ssl-cert/],
    ['-c without -l', ['-c'], /-c\/--clear needs -l\/--logfile/],
    ['BACKEND and --server-host', ['db', '--server-host', 'other'], /BACKEND or with --server-host, not both/],
    ['BACKEND port and --server-connect-port', ['db:6000', '--server-connect-port', '6001'], /--server-connect-port, not both/],
    ['bad BACKEND port', ['db:99999'], /BACKEND "db:99999": expected a port number 1\.\.65535/],
    ['bad BACKEND', ['[::1'], /BACKEND "\[::1": unbalanced brackets/],
    ['two BACKENDs', ['db1', 'db2'], /too many arguments/],
    ['sslrootcert=system with explicit require', ['--server-sslrootcert', 'system', '--server-sslmode', 'require'], /--server-sslmode require may not be used with --server-sslrootcert system \(use --server-sslmode verify-full/],
    ['sslrootcert=system with explicit prefer', ['--server-sslmode', 'prefer', '--server-sslrootcert', 'system'], /--server-sslmode prefer may not be used with --server-sslrootcert system/],
    ['direct TLS with sslmode disable', ['--server-sslmode', 'disable', '--server-sslnegotiation', 'direct'], /--server-sslnegotiation direct.*--server-sslmode disable/],
  ];
  for (const [what, argv, re] of cases) {
    it(what, () => usageError(argv, re));
  }
});

describe('pgscope (proxy): authentication, certificates and outputs', () => {
  it('--override-auth, --redact-passwords, --client-ca and their off forms', async () => {
    const c = await configOf(['--override-auth', '--redact-passwords', '--client-ca']);
    assert.deepEqual([c.overrideAuth, c.redactPasswords, c.clientCa], [true, true, true]);
    assert.deepEqual(await configOf(['--no-override-auth', '--no-redact-passwords', '--no-client-ca']), DEFAULTS);
  });
  it('--server-channel-binding: each value, prefer by default (as Elephantshark)', async () => {
    await usageError(['--server-channel-binding', 'sometimes'], /--server-channel-binding: expected one of disable, prefer, require; got "sometimes"/);
    for (const v of ['disable', 'prefer', 'require'] as const) assert.equal((await configOf(['--server-channel-binding', v])).serverChannelBinding, v);
    assert.equal((await configOf([])).serverChannelBinding, 'prefer');
  });
  it('--client-ca conflicts with --client-ssl-cert and --client-deny-ssl', async () => {
    await usageError(['--client-ca', '--client-ssl-cert', 'c.pem', '--client-ssl-key', 'k.pem'], /--client-ca .* choose one/);
    await usageError(['--client-ca', '--client-deny-ssl'], /--client-ca has nothing to sign/);
  });
  it('--ca-dir, else $PGSCOPE_CA_DIR', async () => {
    assert.equal((await configOf([], { env: { PGSCOPE_CA_DIR: '/env/ca' } })).caDir, '/env/ca');
    assert.equal((await configOf(['--ca-dir', '/flag/ca'], { env: { PGSCOPE_CA_DIR: '/env/ca' } })).caDir, '/flag/ca');
  });
  it('--summary: on by default on a terminal only', async () => {
    assert.equal((await configOf([], { stdoutIsTTY: true })).summary, true);
    assert.equal((await configOf([], { stdoutIsTTY: false })).summary, false);
    assert.equal((await configOf(['--no-summary'], { stdoutIsTTY: true })).summary, false);
    assert.equal((await configOf(['--summary'], { stdoutIsTTY: false })).summary, true);
  });
  it('--pcap - and two outputs on standard output are refused', async () => {
    await usageError(['--pcap', '-'], /--pcap: expected a file path/);
    await usageError(['--jsonl', '-', '--query-log', '-'], /cannot both write to standard output/);
  });
  it('a bad --filter is a usage error at start-up', async () => {
    await usageError(['--filter', 'conn='], /^pgscope: --filter: /);
    await usageError(['--fault', 'error 4001'], /^pgscope: --fault "error 4001": at character 7: expected a SQLSTATE code/);
    await usageError(['--fault', 'refuse when Query'], /refuse acts on new connections/);
  });
});

describe('pgscope: colour', () => {
  const cases: [string, string[], Record<string, string>, boolean, boolean][] = [
    ['terminal', [], {}, true, true],
    ['pipe', [], {}, false, false],
    ['--bw on a terminal', ['--bw'], {}, true, false],
    ['--bw beats FORCE_COLOR', ['--bw'], { FORCE_COLOR: '1' }, true, false],
    ['--no-bw on a pipe', ['--no-bw'], {}, false, true],
    ['--no-bw beats NO_COLOR', ['--no-bw'], { NO_COLOR: '1' }, false, true],
    ['FORCE_COLOR on a pipe', [], { FORCE_COLOR: '1' }, false, true],
    ['FORCE_COLOR=0 on a pipe', [], { FORCE_COLOR: '0' }, false, false],
    ['NO_COLOR on a terminal', [], { NO_COLOR: '1' }, true, false],
    ['empty NO_COLOR on a terminal', [], { NO_COLOR: '' }, true, true],
    ['FORCE_COLOR beats NO_COLOR', [], { FORCE_COLOR: '1', NO_COLOR: '1' }, false, true],
    ['last of --bw/--no-bw wins', ['--bw', '--no-bw'], {}, false, true],
  ];
  for (const [what, argv, env, tty, colour] of cases) {
    it(what, async () => assert.equal((await configOf(argv, { env, stdoutIsTTY: tty })).colour, colour));
  }
});

describe('pgscope --help, --version', () => {
  const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

  it('--version prints `pgscope <version>`', async () => {
    const r = await run(['--version']);
    assert.deepEqual([r.code, r.out, r.err, r.configs.length], [0, `pgscope ${version}\n`, '', 0]);
  });

  for (const flag of ['--help', '-h']) {
    it(`${flag} prints grouped options with defaults, and examples`, async () => {
      const r = await run([flag]);
      assert.deepEqual([r.code, r.err, r.configs.length], [0, '', 0]);
      const h = r.out;
      assert.match(h, /^Usage: pgscope \[options\] \[BACKEND\]\n {7}pgscope read CAPTURE \[--keylog FILE\] \[options\]\n {7}pgscope sniff \[-i IFACE\] \[--port N\] \[options\]\n {7}pgscope view CAPTURE \| pgscope report CAPTURE -o FILE\.html\n {7}pgscope decode FILE \[options\]\n {7}pgscope ca \[--print-path\]\n/);
      const groups = ['Arguments:', 'Client leg (client → pgscope):', 'Server leg (pgscope → server):', 'Logging:', 'Behaviour:', 'Authentication and certificates:', 'More outputs (any together, all fed by the same decoded traffic):', 'Other:', 'Commands:', 'Examples:', 'Filters (--filter): which messages reach the annotated/raw log and --jsonl; forwarding is untouched.'];
      const at = groups.map((g) => h.indexOf(`\n${g}\n`));
      assert.ok(at.every((i) => i > 0), `all groups present: ${JSON.stringify(at)}`);
      assert.deepEqual([...at].sort((a, b) => a - b), at, 'groups in order');
      for (const term of [
        '--client-listen-ip <ip>', '-p, --client-listen-port <port>', '--client-ssl-cert <path>', '--client-ssl-key <path>', '--client-cert-sig <type>',
        '--[no-]client-deny-ssl', '--client-sslkeylogfile <path>', '--server-host <host>', '--server-delete-suffix <suffix>', '--server-connect-port <port>',
        '--server-sslmode <mode>', '--server-sslrootcert <system|path>', '--server-sslnegotiation <how>', '--server-sslkeylogfile <path>', '--log-forwarded <how>',
        '--max-value-bytes <n>', '--[no-]log-certs', '-l, --logfile <path>', '-c, --clear', '-v, --verbose', '--[no-]bw', '--send-chunking <how>',
        '--[no-]quit-on-hangup', '--max-connections <n>', '--[no-]allow-self-loop', '--demo', '--[no-]override-auth', '--server-channel-binding <mode>', '--[no-]redact-passwords',
        '--[no-]client-ca', '--ca-dir <path>', '--jsonl <path>', '--pcap <path>', '--query-log <path>', '--filter <expr>', '--[no-]summary',
        '--version', '-h, --help',
      ]) {
        assert.ok(h.includes(`\n  ${term} `), `help lists ${term}`);
      }
      assert.doesNotMatch(h, /\n {2}--no-/, 'negations are folded into --[no-]');
      for (const d of ['(default: 127.0.0.1)', '(default: 5432)', '(default: prefer)', '(default: .local.neon.build)', '(default: 256)', '(default: rsa)', '(default: annotated)', '(default: whole)']) {
        assert.ok(h.replace(/\s+/g, ' ').includes(d), `help shows ${d}`);
      }
      assert.ok(h.replace(/\s+/g, ' ').includes('(default: mimic)'));
      const examples = h.slice(h.indexOf('\nExamples:\n')).split('\n').filter((l) => l.startsWith('  pgscope '));
      assert.deepEqual(examples, [
        '  pgscope --demo',
        '  pgscope db.example.com:5432 -p 6432',
        '  pgscope --server-host db.internal --server-sslmode verify-full --server-sslrootcert system',
        '  pgscope db.example.com --override-auth --redact-passwords',
        '  pgscope db.example.com --client-ca',
        '  pgscope db.example.com --log-forwarded none --query-log - --jsonl trace.jsonl --pcap trace.pcapng',
        '  pgscope read capture.pcap --keylog keys.log --query-log -',
        '  pgscope sniff -i lo --port 5432 --log-forwarded compact',
        '  pgscope decode test/fixtures/psql-scram-simple-queries.json --bw',
      ]);
    });
  }

  it('the examples in the help parse', async () => {
    for (const argv of [
      ['db.example.com:5432', '-p', '6432'],
      ['--server-host', 'db.internal', '--server-sslmode', 'verify-full', '--server-sslrootcert', 'system'],
      ['--demo'],
      ['db.example.com', '--override-auth', '--redact-passwords'],
      ['db.example.com', '--client-ca'],
      ['db.example.com', '--log-forwarded', 'none', '--query-log', '-', '--jsonl', 'trace.jsonl', '--pcap', 'trace.pcapng'],
      ['--filter', 'queries'],
      ['--filter', 'errors'],
      ['--filter', 'Query,ErrorResponse'],
      ['--filter', 'client'],
      ['--filter', 'conn=3'],
      ['--filter', 'conn=2-5'],
      ['--filter', 'server and not DataRow'],
    ]) {
      await configOf(argv);
    }
  });
});

describe('pgscope: running the proxy', () => {
  it('the runner gets the Config and its status is returned', async () => {
    const seen: Config[] = [];
    const code = await main(['db:7000'], { out: () => {}, err: () => {}, env: {}, stdoutIsTTY: false, runProxy: async (c) => (seen.push(c), 3) });
    assert.equal(code, 3);
    assert.deepEqual(seen, [{ ...DEFAULTS, serverHost: 'db', serverConnectPort: 7000 }]);
  });

  it('a ConfigError from the runner is a usage error too', async () => {
    const r = await run([], { runProxy: async () => { throw new ConfigError('--client-ssl-cert: cannot read c.pem'); } });
    assert.deepEqual([r.code, r.err], [2, 'pgscope: --client-ssl-cert: cannot read c.pem\n']);
  });

  describe('the default runner (run.js next to the CLI)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgscope-cli-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('says so when the proxy is not built', async () => {
      const r = await run(['-p', '0'], { runProxy: proxyRunnerFrom(pathToFileURL(dir + '/')) });
      assert.deepEqual([r.code, r.err, r.out], [1, 'pgscope: the proxy is not built yet\n', '']);
    });

    it('calls its runProxy with the Config', async () => {
      const base = join(dir, 'built');
      mkdirSync(base, { recursive: true });
      writeFileSync(join(base, 'package.json'), '{"type": "module"}\n');
      writeFileSync(join(base, 'run.js'), 'export async function runProxy(config) { globalThis.__pgscopeCliTest = config; return 7; }\n');
      const r = await run(['-p', '0', '--demo'], { runProxy: proxyRunnerFrom(pathToFileURL(base + '/')) });
      assert.deepEqual([r.code, r.err], [7, '']);
      assert.deepEqual((globalThis as { __pgscopeCliTest?: Config }).__pgscopeCliTest, { ...DEFAULTS, clientListenPort: 0, demo: true });
    });
  });
});

describe('pgscope decode', () => {
  const fixture = 'test/fixtures/psql-scram-simple-queries.json';

  it('prints the transcript, monochrome with --bw', async () => {
    const r = await run(['decode', fixture, '--bw'], { stdoutIsTTY: true });
    assert.deepEqual([r.code, r.err, r.configs.length], [0, '', 0]);
    assert.match(r.out, /client -> server: /);
    assert.doesNotMatch(r.out, /\x1b\[/);
  });

  // Output to a pipe is still coloured when colour is asked for (the test runner's stdout is a pipe).
  it('colour with --no-bw even on a pipe', async () => {
    const r = await run(['decode', fixture, '--no-bw'], { stdoutIsTTY: false });
    assert.equal(r.code, 0);
    assert.match(r.out, /\x1b\[/);
  });

  it('raw format with a value limit', async () => {
    const full = await run(['decode', fixture, '--log-forwarded', 'raw', '--bw']);
    const cut = await run(['decode', fixture, '--log-forwarded', 'raw', '--max-value-bytes', '16', '--bw']);
    assert.deepEqual([full.code, cut.code], [0, 0]);
    assert.match(cut.out, /^client -> server: /);
    assert.ok(cut.out.length < full.out.length, 'the limit applies');
  });

  it('mistakes are usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [['decode'], /missing required argument 'FILE'/],
      [['decode', fixture, '--log-forwarded', 'none'], /--log-forwarded: expected one of annotated, raw, compact; got "none"/],
      [['decode', fixture, '--max-value-bytes', '-1'], /--max-value-bytes: expected a positive whole number/],
      [['decode', fixture, '--server-host', 'x'], /unknown option '--server-host'/],
      [['decode', 'a.json', 'b.json'], /too many arguments/],
      [['--bw', 'decode', fixture], /options before "decode" belong to the proxy/],
      [['decode', join(tmpdir(), 'pgscope-no-such-file.json')], /cannot read /],
    ];
    for (const [argv, re] of cases) await usageError(argv, re);
  });

  it('decode --help', async () => {
    const r = await run(['decode', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: pgscope decode \[options\] <FILE>/);
    assert.match(r.out, /--\[no-\]bw/);
  });
});
