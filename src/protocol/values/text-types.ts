/**
 * Types whose binary form is their text in the client encoding (textsend, varcharsend,
 * bpcharsend, namesend, json_send, xml_send), jsonb (a version byte, then the text), and
 * "char" (one raw byte). The value is the string itself.
 */
import { utf8, type ScalarCodec } from './codec.js';

function textual(name: string): ScalarCodec {
  return {
    name,
    fromBinary: (b) => {
      const text = utf8(b);
      return text === null ? null : { value: text, text };
    },
    fromText: (text) => ({ value: text, text }),
  };
}

export const text = textual('text');
export const varchar = textual('varchar');
export const bpchar = textual('bpchar');
export const name = textual('name');
export const json = textual('json');
export const xml = textual('xml');

/** jsonb_send: Int8 version (always 1 so far), then jsonb_out's text. */
const JSONB_VERSION = 1;
export const jsonb: ScalarCodec = {
  name: 'jsonb',
  fromBinary: (b) => {
    if (b.length < 1 || b[0] !== JSONB_VERSION) return null;
    const t = utf8(b.subarray(1));
    return t === null ? null : { value: t, text: t };
  },
  fromText: (t) => ({ value: t, text: t }),
};

/**
 * "char" (a single byte, pg_type's internal flag type): charsend writes the byte; charout
 * prints a high-bit byte as \ooo octal (PostgreSQL 15+) and the zero byte as nothing.
 */
export const char: ScalarCodec = {
  name: 'char',
  fromBinary: (b) => {
    if (b.length !== 1) return null;
    const c = b[0]!;
    const t = c === 0 ? '' : c >= 0x80 ? '\\' + c.toString(8).padStart(3, '0') : String.fromCharCode(c);
    return { value: t, text: t };
  },
  fromText: (t) => ({ value: t, text: t }),
};
