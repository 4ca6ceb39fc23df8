/** Bytes as a double-quoted escaped string, as Elephantshark users read them: "Z\x00\x00\x00\x05I". */

const TABLE: string[] = (() => {
  const t: string[] = [];
  for (let b = 0; b < 256; b++) {
    if (b === 0x22) t.push('\\"');
    else if (b === 0x5c) t.push('\\\\');
    else if (b === 0x0a) t.push('\\n');
    else if (b === 0x0d) t.push('\\r');
    else if (b === 0x09) t.push('\\t');
    else if (b >= 0x20 && b < 0x7f) t.push(String.fromCharCode(b));
    else t.push(`\\x${b.toString(16).padStart(2, '0')}`);
  }
  return t;
})();

/** Escape bytes without quotes. */
export function escapeBytes(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += TABLE[bytes[i]!];
  return s;
}

/**
 * Escape and quote at most `max` bytes of a value; when cut, say how many bytes were left
 * out. `total` is the value's real size when only a prefix of it is at hand.
 */
export function quoteBounded(bytes: Uint8Array, max: number, total: number = bytes.length): string {
  const shown = bytes.length > max ? bytes.subarray(0, max) : bytes;
  const omitted = total - shown.length;
  const q = `"${escapeBytes(shown)}"`;
  return omitted > 0 ? `${q}…(${omitted} more byte${omitted === 1 ? '' : 's'})` : q;
}
