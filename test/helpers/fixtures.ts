import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Direction } from '../../src/protocol/types.js';

/** A conversation recorded from a real server and client (test/fixtures/*.json). */
export interface Fixture {
  name: string;
  description: string;
  server: string;
  client: string;
  chunks: { dir: Direction; bytes: Buffer }[];
}

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export function loadFixtures(): Fixture[] {
  let files: string[] = [];
  try {
    files = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return files.map((f) => {
    const raw = JSON.parse(readFileSync(join(FIXTURE_DIR, f), 'utf8')) as {
      description?: string;
      server?: string;
      client?: string;
      chunks: { dir: Direction; hex: string }[];
    };
    return {
      name: f.replace(/\.json$/, ''),
      description: raw.description ?? '',
      server: raw.server ?? '',
      client: raw.client ?? '',
      chunks: raw.chunks.map((c) => ({ dir: c.dir, bytes: Buffer.from(c.hex, 'hex') })),
    };
  });
}
