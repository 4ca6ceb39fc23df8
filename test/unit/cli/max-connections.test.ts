/**
 * --max-connections (issue 11, item 6): the flag, its default (no limit) and its checks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main, type ProxyRunner } from '../../../src/app/cli.js';
import { ConfigError, DEFAULTS, validateConfig, type Config } from '../../../src/app/config.js';

async function run(argv: string[]): Promise<{ code: number; err: string; configs: Config[] }> {
  const configs: Config[] = [];
  let err = '';
  const runProxy: ProxyRunner = async (c) => {
    configs.push(c);
    return 0;
  };
  const code = await main(argv, { out: () => undefined, err: (s) => void (err += s), env: {}, stdoutIsTTY: false, runProxy });
  return { code, err, configs };
}

describe('--max-connections', () => {
  it('default: no limit', async () => {
    assert.equal(DEFAULTS.maxConnections, null);
    assert.equal((await run([])).configs[0]!.maxConnections, null);
  });

  it('a positive whole number', async () => {
    assert.equal((await run(['--max-connections', '3'])).configs[0]!.maxConnections, 3);
    assert.equal((await run(['--max-connections=120'])).configs[0]!.maxConnections, 120);
  });

  for (const bad of ['0', '-1', '2.5', 'lots', '']) {
    it(`refuses ${JSON.stringify(bad)} in one line, status 2`, async () => {
      const r = await run(['--max-connections', bad]);
      assert.equal(r.code, 2);
      assert.equal(r.configs.length, 0);
      assert.match(r.err, /^pgscope: [^\n]*--max-connections: expected a positive whole number; got "[^"]*"\n$/);
    });
  }

  it('validateConfig checks a Config built in code', () => {
    assert.throws(() => validateConfig({ ...DEFAULTS, maxConnections: 0 }), (e: unknown) => e instanceof ConfigError && /--max-connections: expected a positive whole number; got 0/.test(e.message));
    assert.equal(validateConfig({ ...DEFAULTS, maxConnections: 7 }).maxConnections, 7);
  });

  it('--help lists it in the Behaviour group', async () => {
    let out = '';
    await main(['--help'], { out: (s) => void (out += s), err: () => undefined, env: {}, stdoutIsTTY: false, runProxy: async () => 0 });
    const behaviour = out.slice(out.indexOf('\nBehaviour:\n'), out.indexOf('\nAuthentication and certificates:\n'));
    assert.match(behaviour.replace(/\s+/g, ' '), /--max-connections <n> with n clients connected, refuse more with FATAL 53300 "sorry, too many clients already", as PostgreSQL does; CancelRequests always pass\. .*\(default: no limit\)/);
  });
});
