import type { CodecEvent, Direction } from '../protocol/types.js';
import { annotateMessage, type AnnotateOptions } from './annotated.js';
import { quoteBounded } from './escape.js';
import { rawMessage } from './raw.js';
import { MONOCHROME } from './style.js';

export interface TranscriptOptions extends AnnotateOptions {
  /** 'annotated' (default) or 'raw', as Elephantshark's --log-forwarded. */
  format?: 'annotated' | 'raw';
}

/** Elephantshark's direction labels for forwarded traffic. */
export const LABELS: Record<Direction, string> = {
  frontend: 'client -> server:',
  backend: 'server -> client:',
};

/**
 * The lines one codec event contributes to a human-readable log: the first line starts
 * with the direction label, continuation lines are indented under the message.
 */
export function transcriptLines(ev: CodecEvent, opts: TranscriptOptions = {}, label?: string): string[] {
  const style = opts.style ?? MONOCHROME;
  // A label names who sent what ("script -> server:"); colour follows the sending side.
  const dirOf = (d: Direction): string => {
    const text = label ?? LABELS[d];
    return text.startsWith('client') || (text.startsWith('script') && text.endsWith('server:')) ? style.client(text) : style.server(text);
  };
  const pad = ' '.repeat((label ?? LABELS.frontend).length + 1);
  switch (ev.kind) {
    case 'message': {
      const label = dirOf(ev.message.frame.direction);
      if (opts.format === 'raw') return [`${label} ${rawMessage(ev.message, { maxBytes: opts.maxValueBytes ?? 4096, redact: opts.redact ?? false })}`];
      return annotateMessage(ev.message, opts).map((l, i) => (i === 0 ? `${label} ${l.text}` : pad + '  '.repeat(l.depth) + l.text));
    }
    case 'message-start':
      return [];
    case 'error':
      return [`${dirOf(ev.error.direction)} ${style.problem(`!! ${ev.error.message}`)}`];
    case 'unparsed': {
      // Bytes not decoded may hold anything (a password message after a framing error):
      // when redacting none of them are shown, as JSON lines does.
      const shown = opts.redact ? `<redacted ${ev.length} byte${ev.length === 1 ? '' : 's'}>` : quoteBounded(ev.prefix, 32, ev.length);
      return [`${dirOf(ev.direction)} ${shown} ${style.meaning(`= ${ev.length} bytes not decoded (${ev.reason})`)}`];
    }
  }
}
