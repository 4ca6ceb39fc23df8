/**
 * pcapng blocks (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html), written
 * little-endian: readers detect the byte order from the Section Header's magic.
 */

export const LINKTYPE_ETHERNET = 1;

const SHB_TYPE = 0x0a0d0d0a;
const IDB_TYPE = 0x00000001;
const EPB_TYPE = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const OPT_COMMENT = 1;
export const SHB_USERAPPL = 4;
export const IF_NAME = 2;

export interface BlockOption {
  code: number;
  value: Buffer;
}

/** An option's length is a 16-bit field. */
export const MAX_OPTION_BYTES = 0xffff;

/** A UTF-8 text option (comments, application name), cut to fit an option at a character boundary. */
export function textOption(code: number, text: string): BlockOption {
  return { code, value: utf8Prefix(text, MAX_OPTION_BYTES) };
}

/** The longest prefix of text whose UTF-8 takes at most `max` bytes, never splitting a character. */
export function utf8Prefix(text: string, max: number): Buffer {
  const b = Buffer.from(text, 'utf8');
  if (b.length <= max) return b;
  let end = max;
  // Back off continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** Options, each padded to 32 bits, then opt_endofopt; nothing at all when there are none. */
function encodeOptions(given: BlockOption[]): Buffer {
  if (given.length === 0) return Buffer.alloc(0);
  // A longer value cannot be described by the 16-bit length: cut (text options are already cut at a character).
  const options = given.map((o) => (o.value.length > MAX_OPTION_BYTES ? { code: o.code, value: o.value.subarray(0, MAX_OPTION_BYTES) } : o));
  const size = options.reduce((n, o) => n + 4 + pad4(o.value.length), 0) + 4;
  const b = Buffer.alloc(size);
  let at = 0;
  for (const o of options) {
    b.writeUInt16LE(o.code, at);
    b.writeUInt16LE(o.value.length, at + 2);
    o.value.copy(b, at + 4);
    at += 4 + pad4(o.value.length);
  }
  return b; // the trailing 4 zero bytes are opt_endofopt
}

/** type, total length, body (already padded), options, total length again. */
function block(type: number, body: Buffer, options: BlockOption[]): Buffer {
  const opts = encodeOptions(options);
  const total = 12 + body.length + opts.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  opts.copy(b, 8 + body.length);
  b.writeUInt32LE(total, total - 4);
  return b;
}

export function sectionHeaderBlock(options: BlockOption[]): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(1, 4); // major version
  body.writeUInt16LE(0, 6); // minor version
  body.writeBigInt64LE(-1n, 8); // section length: not specified (we stream)
  return block(SHB_TYPE, body, options);
}

export function interfaceDescriptionBlock(linkType: number, options: BlockOption[]): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(linkType, 0);
  body.writeUInt32LE(0, 4); // snaplen 0: no limit, every packet is written whole
  return block(IDB_TYPE, body, options);
}

/** `micros`: microseconds since the epoch (the interface's if_tsresol is the default, 6). */
export function enhancedPacketBlock(interfaceId: number, micros: number, packet: Buffer, options: BlockOption[]): Buffer {
  const body = Buffer.alloc(20 + pad4(packet.length));
  body.writeUInt32LE(interfaceId, 0);
  body.writeUInt32LE(Math.floor(micros / 0x100000000), 4);
  body.writeUInt32LE(micros % 0x100000000, 8);
  body.writeUInt32LE(packet.length, 12); // captured length
  body.writeUInt32LE(packet.length, 16); // original length
  packet.copy(body, 20);
  return block(EPB_TYPE, body, options);
}
