/**
 * What the inspector reads of a JSON-lines message by field name. The inspector's input is
 * JSON lines (live, from a capture file, or inside a report's page), whose field names are
 * the documented schema (docs/jsonl.md: the protocol documentation's names, as a jq user
 * reads them): there is no decoded message to ask a codec's accessors of. The names are
 * spelled here only (test/unit/codec/span-names.test.ts lists this file with the readers).
 */
import type { JsonlField } from '../output/jsonl/objects.js';

/** The string value of the first top-level field called `name`, or null. */
export function textField(fields: readonly JsonlField[], name: string): string | null {
  for (const f of fields) if (f.name === name) return typeof f.value === 'string' ? f.value : null;
  return null;
}

/** A StartupMessage's "parameters": name/value pairs. */
export function startupParameters(fields: readonly JsonlField[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fields) {
    if (f.name !== 'parameters') continue;
    for (const p of f.children ?? []) {
      const kids = p.children ?? [];
      const name = textField(kids, 'name');
      const value = textField(kids, 'value');
      if (name !== null && value !== null) out.set(name, value);
    }
  }
  return out;
}

/** A ReadyForQuery whose "status" is 'I' (idle: no transaction open). */
export function readyIdle(fields: readonly JsonlField[]): boolean {
  return textField(fields, 'status') === 'I';
}

/** The Parse, Bind, Describe and Execute fields RequestSql follows statements and portals by. */
export const requestFields = {
  query: (f: readonly JsonlField[]) => textField(f, 'query'),
  parseName: (f: readonly JsonlField[]) => textField(f, 'destination prepared statement') ?? '',
  parseQuery: (f: readonly JsonlField[]) => textField(f, 'query string'),
  bindStatement: (f: readonly JsonlField[]) => textField(f, 'source prepared statement') ?? '',
  bindPortal: (f: readonly JsonlField[]) => textField(f, 'destination portal') ?? '',
  describeStatement: (f: readonly JsonlField[]) => textField(f, 'target') === 'S',
  describeName: (f: readonly JsonlField[]) => textField(f, 'name') ?? '',
  executePortal: (f: readonly JsonlField[]) => textField(f, 'portal') ?? '',
};
