import type { ProxyEvent } from '../session/events.js';
import type { LineWriter } from './line-writer.js';
import type { Style } from './style.js';
import { transcriptLines } from './transcript.js';

export interface TextLogOptions {
  /** How forwarded traffic is shown (Elephantshark's --log-forwarded). */
  forwarded: 'none' | 'raw' | 'annotated';
  style: Style;
  maxValueBytes: number;
  verbose: boolean;
  /** --redact-passwords: secret fields (annotated) and every password message (raw) are hidden. */
  redact?: boolean;
}

/**
 * The human-readable log, in Elephantshark's conventions: every line of a connection
 * starts with `#N`, messages are labelled `client -> server:` etc., and each forwarded
 * batch ends with `^^ 43 bytes forwarded at +0.61s`.
 */
export class TextLog {
  constructor(
    private readonly out: LineWriter,
    private readonly opts: TextLogOptions,
  ) {}

  write(ev: ProxyEvent): void {
    const prefix = ev.conn === null ? '' : `#${ev.conn}  `;
    const s = this.opts.style;
    switch (ev.kind) {
      case 'status': {
        if (ev.level === 'debug' && !this.opts.verbose) return;
        const text = ev.level === 'error' ? s.problem(ev.text) : ev.level === 'warn' ? s.problem(ev.text) : s.status(ev.text);
        this.out.line(prefix + text);
        return;
      }
      case 'codec': {
        const isForwarded = ev.label === 'client -> server' || ev.label === 'server -> client';
        if (isForwarded && this.opts.forwarded === 'none') return;
        const format = isForwarded && this.opts.forwarded === 'raw' ? 'raw' : 'annotated';
        const lines = transcriptLines(ev.event, { format, style: s, maxValueBytes: this.opts.maxValueBytes, redact: this.opts.redact ?? false }, `${ev.label}:`);
        for (const l of lines) this.out.line(prefix + l);
        return;
      }
      case 'forwarded':
        if (this.opts.forwarded === 'none') return;
        this.out.line(prefix + s.meaning(`^^ ${ev.bytes} bytes forwarded at +${ev.elapsed.toFixed(2)}s`));
        return;
      case 'security': {
        // Once per connection, after authentication: stated whatever --log-forwarded says.
        const v = ev.verdict;
        const head = v.exposure === 'exposed' ? 'security: EXPOSED: ' : 'security: ';
        const text = head + v.sentence;
        this.out.line(prefix + (v.exposure === 'exposed' ? s.problem(text) : s.status(text)));
        return;
      }
    }
  }
}
