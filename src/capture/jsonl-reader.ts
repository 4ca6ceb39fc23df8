/**
 * JSON lines as --jsonl wrote them (docs/jsonl.md), read back as their chunks arrive: each
 * line one object with `"v": 1` and a `type`. A line that is not one is a CaptureError
 * naming the line and its byte offset. Blank lines are passed over.
 */
import type { JsonlObject } from '../output/jsonl/objects.js';
import { CaptureError } from './capture-error.js';
import type { ChunkReader } from './pcapng-reader.js';

const NEWLINE = 0x0a;

export class JsonlReader implements ChunkReader {
  /** The start of a line whose end has not arrived yet. */
  private partial: Buffer[] = [];
  private line = 0;
  /** File offset of the line being read. */
  private offset = 0;

  constructor(
    private readonly file: string,
    private readonly onObject: (o: JsonlObject, line: string) => void,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      const piece = chunk.subarray(from, nl);
      const bytes = this.partial.length === 0 ? piece : Buffer.concat([...this.partial, piece]);
      this.partial = [];
      this.parse(bytes);
      this.offset += bytes.length + 1;
      from = nl + 1;
    }
    if (from < chunk.length) this.partial.push(chunk.subarray(from));
  }

  end(): void {
    if (this.partial.length > 0) this.parse(Buffer.concat(this.partial));
    this.partial = [];
  }

  private parse(bytes: Buffer): void {
    this.line++;
    const text = bytes.toString('utf8').trim();
    if (text === '') return;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new CaptureError(this.file, this.offset, `line ${this.line}`, `a JSON object as --jsonl writes them (${why})`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o) || (o as { v?: unknown }).v !== 1 || typeof (o as { type?: unknown }).type !== 'string') {
      throw new CaptureError(this.file, this.offset, `line ${this.line}`, 'a JSON-lines object of pgscope\'s ("v": 1 and a "type")');
    }
    this.onObject(o as JsonlObject, text);
  }
}
