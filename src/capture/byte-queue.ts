/**
 * A file's bytes as they arrive in chunks, read as whole records: the first n bytes come
 * back as one Buffer, copied only when a record spans chunks (a record bigger than a chunk
 * is put together once, when all of it is there). Tracks the file offset of what it holds,
 * for errors that say where.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private held = 0;
  /** File offset of the first byte held. */
  private at = 0;

  get offset(): number {
    return this.at;
  }

  get length(): number {
    return this.held;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
  }

  /** A buffer whose first n bytes are the next n bytes, or null while fewer are held. */
  peek(n: number): Buffer | null {
    if (n > this.held) return null;
    const first = this.chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length >= n) return first;
    let count = 0;
    let bytes = 0;
    while (bytes < n) bytes += this.chunks[count++]!.length;
    const merged = Buffer.concat(this.chunks.slice(0, count), bytes);
    this.chunks.splice(0, count, merged);
    return merged;
  }

  skip(n: number): void {
    let left = Math.min(n, this.held);
    this.held -= left;
    this.at += left;
    while (left > 0) {
      const first = this.chunks[0]!;
      if (first.length <= left) {
        this.chunks.shift();
        left -= first.length;
      } else {
        this.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
  }
}
