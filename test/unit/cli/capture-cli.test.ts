/**
 * `pgscope read` and `pgscope sniff` on the command line: their help, the mistakes that
 * are usage errors before anything is read or captured (a bad port, a bad filter, a
 * filter together with --port, options before the subcommand, a key log that cannot be
 * read), and input that is not a capture (status 1). Decoding itself: test/unit/capture
 * and test/e2e/capture-tls-read, test/e2e/sniff.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/app/cli.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[]): Promise<Run> {
  const r: Run = { code: -1, out: '', err: '' };
  r.code = await main(argv, {
    out: (s) => void (r.out += s),
    err: (s) => void (r.err += s),
    env: {},
    stdoutIsTTY: false,
    runProxy: async () => {
      throw new Error('the proxy must not run');
    },
  });
  return r;
}

describe('pgscope read and sniff: the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgscope-capture-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('help lists the input options and the outputs', async () => {
    for (const cmd of ['read', 'sniff']) {
      const r = await run([cmd, '--help']);
      assert.equal(r.code, 0);
      for (const term of ['--keylog <file>', '--port <port>', '--log-forwarded <how>', '--jsonl <path>', '--pcap <path>', '--query-log <path>', '--filter <expr>', '--[no-]summary', '--redact-passwords']) {
        assert.ok(r.out.includes(`  ${term} `), `${cmd} --help lists ${term}`);
      }
    }
    assert.ok((await run(['sniff', '--help'])).out.includes('-i, --interface <name>'));
  });

  it('mistakes are usage errors (status 2), one line naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['read', 'x.pcap', '--port', '70000'], /^pgscope: --port: expected a port number 1\.\.65535; got "70000"\n$/],
      [['read', 'x.pcap', '--filter', 'sql ~'], /^pgscope: --filter: /],
      [['read', 'x.pcap', '--log-forwarded', 'loud'], /^pgscope: --log-forwarded: expected one of none, raw, annotated, compact; got "loud"\n$/],
      [['--jsonl', 'a', 'read', 'x.pcap'], /^pgscope: options before "read" belong to the proxy; put read's options after it/],
      [['sniff', '--port', '5432', 'tcp', 'port', '5432'], /^pgscope: give either --port or a capture filter, not both/],
      [['read', join(dir, 'x.pcap'), '--keylog', join(dir, 'missing.keys')], new RegExp(`^pgscope: --keylog ${join(dir, 'missing.keys')}: ENOENT`)],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, re, argv.join(' '));
    }
  });

  it('a key log that is a symbolic link is refused', async () => {
    const target = join(dir, 'real.keys');
    writeFileSync(target, '');
    symlinkSync(target, join(dir, 'link.keys'));
    const r = await run(['read', join(dir, 'x.pcap'), '--keylog', join(dir, 'link.keys')]);
    assert.deepEqual([r.code, r.err], [2, `pgscope: --keylog ${join(dir, 'link.keys')}: is a symbolic link (not followed)\n`]);
  });

  it('input that is not a capture: status 1 and what was expected; JSON lines are pointed to view', async () => {
    const png = join(dir, 'pic.png');
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000', 'hex'));
    const r = await run(['read', png, '--log-forwarded', 'none']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^pgscope: .*pic\.png: the start of the file at byte 0: expected a pcapng file \(0a0d0d0a\), a pcap file .* found 89504e470d0a1a0a\n$/);
    const jsonl = join(dir, 'trace.jsonl');
    writeFileSync(jsonl, '{"type":"status"}\n');
    const j = await run(['read', jsonl]);
    assert.equal(j.code, 1);
    assert.match(j.err, /JSON lines from --jsonl are read by pgscope view and pgscope report/);
    const missing = await run(['read', join(dir, 'nope.pcap')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^pgscope: cannot read .*nope\.pcap: ENOENT/);
  });
});
