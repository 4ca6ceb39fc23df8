import type { CodecEvent, Direction, Span } from '../protocol/types.js';
import { indent, renderMessage, resolveAnnotateOptions, type AnnotateOptions, type ResolvedAnnotateOptions } from './annotated.js';
import { isShared } from '../protocol/decode-memo.js';
import { quoteBounded } from './escape.js';
import { rawMessage } from './raw.js';
import { MONOCHROME, type Style } from './style.js';

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
  const out: string[] = [];
  new Transcript(opts).write(ev, label, '', (line) => out.push(line));
  return out;
}

/**
 * transcriptLines for a stream of events with the same options: what does not change from
 * one event to the next (the options, each label's colouring and indentation) is worked
 * out once, and lines go to `emit` with a prefix (the text log's `#N  `) already in front.
 */
export class Transcript {
  private readonly style: Style;
  private readonly raw: boolean;
  private readonly maxRawBytes: number;
  private readonly redact: boolean;
  private readonly annotate: ResolvedAnnotateOptions;
  /** Per label text: [coloured for the frontend, coloured for the backend, continuation pad]. */
  private readonly labels = new Map<string, [string, string, string]>();
  /**
   * The lines (depth, text, depth, text…) of messages whose spans are shared
   * (isShared): the same ReadyForQuery or BindComplete is rendered once.
   */
  private readonly rendered = new WeakMap<Span[], (number | string)[]>();

  constructor(opts: TranscriptOptions = {}) {
    this.style = opts.style ?? MONOCHROME;
    this.raw = opts.format === 'raw';
    this.maxRawBytes = opts.maxValueBytes ?? 4096;
    this.redact = opts.redact ?? false;
    this.annotate = resolveAnnotateOptions(opts);
  }

  /** A label names who sent what ("script -> server:"); colour follows the sending side. */
  private label(text: string | undefined): [string, string, string] {
    const key = text === undefined ? '\u0000' : text;
    let l = this.labels.get(key);
    if (!l) {
      const style = this.style;
      const dirOf = (d: Direction): string => {
        const t = text ?? LABELS[d];
        return t.startsWith('client') || (t.startsWith('script') && t.endsWith('server:')) ? style.client(t) : style.server(t);
      };
      l = [dirOf('frontend'), dirOf('backend'), ' '.repeat((text ?? LABELS.frontend).length + 1)];
      if (this.labels.size < 64) this.labels.set(key, l);
    }
    return l;
  }

  write(ev: CodecEvent, label: string | undefined, prefix: string, emit: (line: string) => void): void {
    const style = this.style;
    switch (ev.kind) {
      case 'message': {
        const l = this.label(label);
        const head = prefix + (ev.message.frame.direction === 'frontend' ? l[0] : l[1]) + ' ';
        if (this.raw) {
          emit(head + rawMessage(ev.message, { maxBytes: this.maxRawBytes, redact: this.redact }));
          return;
        }
        const pad = prefix + l[2];
        const line = (depth: number, text: string): void => emit(depth === 0 ? head + text : pad + indent(depth) + text);
        const msg = ev.message;
        if (!isShared(msg)) {
          renderMessage(msg, this.annotate, line);
          return;
        }
        let lines = this.rendered.get(msg.spans);
        if (lines === undefined) {
          const made: (number | string)[] = [];
          renderMessage(msg, this.annotate, (depth, text) => made.push(depth, text));
          this.rendered.set(msg.spans, (lines = made));
        }
        for (let i = 0; i < lines.length; i += 2) line(lines[i] as number, lines[i + 1] as string);
        return;
      }
      case 'message-start':
        return;
      case 'error': {
        const l = this.label(label);
        emit(`${prefix}${ev.error.direction === 'frontend' ? l[0] : l[1]} ${style.problem(`!! ${ev.error.message}`)}`);
        return;
      }
      case 'unparsed': {
        const l = this.label(label);
        // Bytes not decoded may hold anything (a password message after a framing error):
        // when redacting none of them are shown, as JSON lines does.
        const shown = this.redact ? `<redacted ${ev.length} byte${ev.length === 1 ? '' : 's'}>` : quoteBounded(ev.prefix, 32, ev.length);
        emit(`${prefix}${ev.direction === 'frontend' ? l[0] : l[1]} ${shown} ${style.meaning(`= ${ev.length} bytes not decoded (${ev.reason})`)}`);
        return;
      }
    }
  }
}
