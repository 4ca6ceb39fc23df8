import { readFileSync } from 'node:fs';
import { Conversation } from '../../protocol/conversation.js';
import type { Direction } from '../../protocol/types.js';
import { CompactLog } from '../../output/compact.js';
import { COLOUR, MONOCHROME } from '../../output/style.js';
import { terminalSafe } from '../../output/terminal-safe.js';
import { transcriptLines } from '../../output/transcript.js';

/** `pgscope decode --log-forwarded`: the text log's formats that show messages. */
export type DecodeFormat = 'annotated' | 'raw' | 'compact';
export const DECODE_FORMATS: readonly DecodeFormat[] = ['annotated', 'raw', 'compact'];

export interface DecodeCommandOptions {
  format: DecodeFormat;
  colour: boolean;
  maxValueBytes: number;
}

/**
 * `pgscope decode FILE`: print the transcript of a recorded conversation, a JSON file of
 * {"chunks": [{"dir": "frontend"|"backend", "hex": "…"}]} (the format of test/fixtures).
 */
export function decodeCommand(file: string, opts: DecodeCommandOptions, write: (s: string) => void): number {
  let parsed: { chunks?: { dir?: string; hex?: string }[] };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(parsed.chunks)) throw new UsageError(`${file}: expected an object with a "chunks" array`);
  // Compact shows values as their types (a DataRow as (1, 'teapot')), as the live log does.
  const conv = new Conversation(opts.format === 'compact' ? { statements: { typeValues: true } } : {});
  const style = opts.colour ? COLOUR : MONOCHROME;
  const compact = opts.format === 'compact' ? new CompactLog({ style, maxValueBytes: opts.maxValueBytes }) : null;
  const out: string[] = [];
  const line = (l: string): void => void out.push(terminalSafe(l));
  for (const [i, c] of parsed.chunks.entries()) {
    if ((c.dir !== 'frontend' && c.dir !== 'backend') || typeof c.hex !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(c.hex)) {
      throw new UsageError(`${file}: chunk ${i} needs "dir" ("frontend" or "backend") and "hex" (an even number of hex digits)`);
    }
    for (const ev of conv.push(c.dir as Direction, Buffer.from(c.hex, 'hex'))) {
      if (compact) compact.write(ev, undefined, '', line);
      else for (const l of transcriptLines(ev, { format: opts.format === 'raw' ? 'raw' : 'annotated', style, maxValueBytes: opts.maxValueBytes })) line(l);
    }
  }
  write(out.join('\n') + (out.length ? '\n' : ''));
  return 0;
}

/** A mistake in the command line: reported in one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
