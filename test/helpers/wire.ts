/**
 * A small builder of protocol bytes for tests. Its output is checked against real
 * servers in test/e2e (the raw-client tests send built messages to PostgreSQL).
 */

export type Part = Buffer | string | number[];

export const int8 = (v: number): Buffer => Buffer.from([v & 0xff]);
export const int16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
export const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
export const uint32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
export const int64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
};
/** A null-terminated UTF-8 string. */
export const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
export const bytes = (s: string | number[]): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s));

function toBuf(p: Part): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.isBuffer(p) ? p : Buffer.from(p);
}

/** A normal-phase message: type byte, Int32 length (counting itself), body. */
export function msg(type: string, ...body: Part[]): Buffer {
  const b = Buffer.concat(body.map(toBuf));
  return Buffer.concat([Buffer.from(type, 'latin1'), int32(b.length + 4), b]);
}

/** A startup-phase packet: Int32 length (counting itself), body. */
export function startupPacket(...body: Part[]): Buffer {
  const b = Buffer.concat(body.map(toBuf));
  return Buffer.concat([int32(b.length + 4), b]);
}

/** StartupMessage for protocol 3.minor with parameters. */
export function startupMessage(params: Record<string, string>, minor = 0): Buffer {
  const parts: Buffer[] = [int32((3 << 16) | minor)];
  for (const [k, v] of Object.entries(params)) parts.push(cstr(k), cstr(v));
  parts.push(Buffer.from([0]));
  return startupPacket(...parts);
}
