/**
 * What every type module provides: a decoder for each wire format. Both return the value
 * and the text PostgreSQL's output function would print; `fromText` keeps the text it was
 * given (a Bind parameter written by a client need not be in the server's canonical form).
 * null means "these bytes are not a value of this type": the caller shows escaped bytes.
 */
export interface Decoded {
  value: unknown;
  text: string;
}

export interface ScalarCodec {
  /** PostgreSQL's type name (pg_type.typname, but "char" for the one-byte type). */
  name: string;
  fromBinary(bytes: Buffer): Decoded | null;
  fromText(text: string): Decoded | null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as UTF-8, or null when they are not valid UTF-8 or hold a NUL (no PostgreSQL text
 * value can contain one). pgscope assumes client_encoding UTF8, the default of every driver.
 */
export function utf8(bytes: Buffer): string | null {
  // Plain ASCII without NUL (numbers, dates, most text): read as is, no decoder needed.
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0) return null;
    if (b >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && Buffer.isBuffer(bytes)) return (bytes as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(0, bytes.length);
  if (bytes.includes(0)) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Left-pad a non-negative integer with zeros, like pg_ultostr_zeropad. */
export function zeroPad(n: number | bigint, width: number): string {
  return n.toString().padStart(width, '0');
}
