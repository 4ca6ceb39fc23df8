/** Run Wireshark's tshark on a file and return its packets' fields (tshark -T json). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export type Fields = Record<string, string[]>;

/**
 * The fields of every packet matching `filter` (null: every packet). Throws (the test fails, it does not skip)
 * when tshark is missing: .ci/run installs it.
 */
export function tsharkFields(file: string, filter: string | null, fields: string[]): Fields[] {
  const args = ['-r', file, ...(filter ? ['-Y', filter] : []), '-T', 'json', ...fields.flatMap((f) => ['-e', f])];
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run tshark (install it: apt-get install tshark; .ci/run does): ${r.error.message}`);
  assert.equal(r.status, 0, `tshark ${args.join(' ')} failed: ${r.stderr}`);
  const out = r.stdout.trim();
  if (out === '') return [];
  return (JSON.parse(out) as { _source: { layers: Fields } }[]).map((p) => p._source.layers);
}
