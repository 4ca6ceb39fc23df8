/**
 * bytea and uuid, whose binary forms are raw bytes. bytea's value is its hex text
 * (bytea_output=hex: \x0102ff), which JSON can hold; uuid's is its canonical text.
 */
import type { Decoded, ScalarCodec } from './codec.js';

const hexText = (b: Buffer): string => '\\x' + b.toString('hex');

/**
 * byteain: hex format ("\x" then pairs of hex digits, whitespace allowed between pairs) or
 * escape format (\\ for a backslash, \ooo octal for any byte, other characters as they are).
 */
function byteaFromText(s: string): Buffer | null {
  if (s.startsWith('\\x')) {
    const hex = s.slice(2).replace(/[ \t\n\r]+/g, '');
    return /^([0-9a-fA-F]{2})*$/.test(hex) ? Buffer.from(hex, 'hex') : null;
  }
  const out: Buffer[] = [];
  let plain = '';
  for (let i = 0; i < s.length; ) {
    if (s[i] !== '\\') {
      plain += s[i++];
      continue;
    }
    out.push(Buffer.from(plain, 'utf8'));
    plain = '';
    if (s[i + 1] === '\\') {
      out.push(Buffer.from([0x5c]));
      i += 2;
    } else if (/^[0-3][0-7]{2}$/.test(s.slice(i + 1, i + 4))) {
      out.push(Buffer.from([parseInt(s.slice(i + 1, i + 4), 8)]));
      i += 4;
    } else return null;
  }
  out.push(Buffer.from(plain, 'utf8'));
  return Buffer.concat(out);
}

export const bytea: ScalarCodec = {
  name: 'bytea',
  fromBinary: (b) => {
    const t = hexText(b);
    return { value: t, text: t };
  },
  fromText: (text) => {
    const b = byteaFromText(text);
    return b === null ? null : { value: hexText(b), text };
  },
};

function uuidText(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** uuid_in: 32 hex digits, a hyphen allowed after any group of four, optionally in braces. */
function uuidFromText(s: string): Decoded | null {
  const inner = s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1) : s;
  if (!/^[0-9a-fA-F]{4}(-?[0-9a-fA-F]{4}){7}$/.test(inner)) return null;
  return { value: uuidText(Buffer.from(inner.replace(/-/g, ''), 'hex')), text: s };
}

export const uuid: ScalarCodec = {
  name: 'uuid',
  fromBinary: (b) => {
    if (b.length !== 16) return null;
    const t = uuidText(b);
    return { value: t, text: t };
  },
  fromText: uuidFromText,
};
