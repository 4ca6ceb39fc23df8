/** A file that is not a capture pgscope can read: which file, where, and what was expected. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    readonly file: string,
    /** Byte offset in the file. */
    readonly offset: number,
    /** What was being read: "block 3 (Enhanced Packet Block)", "line 12", … */
    readonly where: string,
    readonly expected: string,
  ) {
    super(`${file}: ${where} at byte ${offset}: expected ${expected}`);
  }
}
