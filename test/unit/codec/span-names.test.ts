/**
 * Span names are spelled only inside the message modules (src/protocol/frontend, backend,
 * replication, and copy-data.ts): code elsewhere asks a codec for fields, or a module for
 * its accessor, instead of looking a span up by its name. This finds such lookups —
 * `valueOf(spans, 'name')`, `s.name === 'name'`, `f(spans, 'name')` — for every span name
 * the corpus decodes to.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Conversation } from '../../../src/protocol/conversation.js';
import { allCodecs } from '../../../src/protocol/registry.js';
import type { DecodedMessage, Span } from '../../../src/protocol/types.js';
import { CORPUS } from '../../helpers/corpus.js';
import { decodeOne } from '../../helpers/decode.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { encodeAndDecode, SAMPLES } from './support.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SRC = join(ROOT, 'src');

/**
 * Where span names are spelled: the message modules and the shared readers they use; the
 * one-line summary, which reads a message's fields in either form (spans, or JSON lines'
 * fields, which have no accessors); and the inspector's reader of JSON lines by name.
 */
const MESSAGE_MODULES = ['protocol/frontend/', 'protocol/backend/', 'protocol/replication/', 'protocol/copy-data.ts', 'protocol/scram.ts', 'protocol/summary-line.ts', 'inspector/jsonl-fields.ts'];

/**
 * Folders whose code still looks spans up by name, waiting to be switched to the codecs'
 * fields and the modules' accessors (their lookups are listed, not failed). Everywhere
 * else — src/protocol, analysis, output, net, app, demo, tls … — a lookup fails this test.
 * None is left (analysis/ was the last, issue 12): keep it so.
 */
const PENDING: string[] = [];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function names(spans: Span[], into: Set<string>): void {
  for (const s of spans) {
    into.add(s.name);
    if (s.children) names(s.children, into);
  }
}

/** Every span name the decoders produce (on the built and recorded corpora and the samples), and every message name. */
function vocabulary(): { spanNames: Set<string>; messageNames: Set<string> } {
  const spanNames = new Set<string>();
  const messageNames = new Set<string>(allCodecs().map((c) => c.name));
  const add = (m: DecodedMessage): void => {
    names(m.spans, spanNames);
    messageNames.add(m.name);
    for (const s of m.sub) messageNames.add(s);
  };
  for (const e of CORPUS) add(decodeOne(e.dir, e.bytes, e.ctx ?? {}, e.mode ?? 'normal'));
  for (const s of SAMPLES) add(encodeAndDecode(s).m);
  for (const fx of loadFixtures()) {
    const conv = new Conversation();
    for (const c of fx.chunks) for (const ev of conv.push(c.dir, c.bytes)) if (ev.kind === 'message') add(ev.message);
  }
  // Names decodeFrame itself gives (type, length; what it could not read).
  for (const n of ['type', 'length', 'unparsed', 'not retained']) spanNames.add(n);
  return { spanNames, messageNames };
}

/** Span-name lookups in one file: [line, name]. */
function lookups(text: string, spanNames: Set<string>, messageNames: Set<string>): [number, string][] {
  const patterns = [
    /valueOf\(\s*[^,()]+,\s*'([^']+)'/g,
    /\.name\s*[!=]==?\s*'([^']+)'/g,
    /'([^']+)'\s*[!=]==?\s*[\w.?!]*\.name\b/g,
    /\(\s*[\w.?!]*spans\s*,\s*'([^']+)'/g,
  ];
  const found = new Map<string, [number, string]>();
  for (const re of patterns) {
    for (const m of text.matchAll(re)) {
      const name = m[1]!;
      if (!spanNames.has(name) || messageNames.has(name)) continue;
      const line = text.slice(0, m.index).split('\n').length;
      found.set(`${line} ${name}`, [line, name]);
    }
  }
  return [...found.values()].sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
}

describe('span names are spelled only inside the message modules', () => {
  it('no file outside them looks a span up by name, but the ones pending their switch', (t) => {
    const { spanNames, messageNames } = vocabulary();
    const offending: string[] = [];
    const pending: string[] = [];
    for (const file of walk(SRC)) {
      const rel = relative(SRC, file).split(sep).join('/');
      if (MESSAGE_MODULES.some((m) => rel.startsWith(m))) continue;
      for (const [line, name] of lookups(readFileSync(file, 'utf8'), spanNames, messageNames)) {
        (PENDING.some((d) => rel.startsWith(d)) ? pending : offending).push(`src/${rel}:${line} '${name}'`);
      }
    }
    if (pending.length) t.diagnostic(`lookups pending their switch to the codecs (${pending.length}): ${pending.join(', ')}`);
    assert.deepEqual(offending, [], 'use the message codec (fields) or its module\'s accessor instead');
  });

  it('finds what it is meant to find', () => {
    const spanNames = new Set(['process ID', 'query', 'field type']);
    const messageNames = new Set(['ErrorResponse']);
    const found = lookups(
      ["const a = valueOf(m.spans, 'process ID');", "if (s.name === 'field type') x();", "str(msg.spans, 'query');", "m.name === 'ErrorResponse'", "s.name === 'other'"].join('\n'),
      spanNames,
      messageNames,
    );
    assert.deepEqual(found, [
      [1, 'process ID'],
      [2, 'field type'],
      [3, 'query'],
    ]);
  });
});
