import type { Label, ProxyEvent } from '../session/events.js';
import { CompactLog } from './compact.js';
import type { LineWriter } from './line-writer.js';
import type { Style } from './style.js';
import { Transcript } from './transcript.js';

export interface TextLogOptions {
  /** How forwarded traffic is shown (Elephantshark's --log-forwarded, and compact: one line per message). */
  forwarded: 'none' | 'raw' | 'annotated' | 'compact';
  style: Style;
  maxValueBytes: number;
  verbose: boolean;
  /** --redact-passwords: secret fields (annotated, compact) and every password message (raw) are hidden. */
  redact?: boolean;
}

/** Labels as shown: "client -> server:". */
const LABEL_TEXT: Record<Label, string> = {
  'client -> server': 'client -> server:',
  'server -> client': 'server -> client:',
  'client -> script': 'client -> script:',
  'script -> client': 'script -> client:',
  'script -> server': 'script -> server:',
  'server -> script': 'server -> script:',
};

/**
 * The human-readable log, in Elephantshark's conventions: every line of a connection
 * starts with `#N`, messages are labelled `client -> server:` etc., and each forwarded
 * batch ends with `^^ 43 bytes forwarded at +0.61s`. Compact (compact.ts): one line per
 * message, pgscope's own messages included, `#N  C Query "select 1"`, and no `^^` lines.
 */
export class TextLog {
  private readonly annotated: Transcript;
  private readonly raw: Transcript;
  private readonly compact: CompactLog | null;
  private readonly line: (text: string) => void;
  /** The `#N  ` prefix of the connection seen last, made once per run of its events. */
  private prefixConn: number | null = null;
  private prefixText = '';

  constructor(
    private readonly out: LineWriter,
    private readonly opts: TextLogOptions,
  ) {
    const common = { style: opts.style, maxValueBytes: opts.maxValueBytes, redact: opts.redact ?? false };
    this.annotated = new Transcript({ format: 'annotated', ...common });
    this.raw = new Transcript({ format: 'raw', ...common });
    this.compact = opts.forwarded === 'compact' ? new CompactLog(common) : null;
    this.line = (text) => this.out.line(text);
  }

  write(ev: ProxyEvent): void {
    let prefix = '';
    if (ev.conn !== null) {
      if (ev.conn !== this.prefixConn) {
        this.prefixConn = ev.conn;
        this.prefixText = `#${ev.conn}  `;
      }
      prefix = this.prefixText;
    }
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
        if (this.compact) {
          this.compact.write(ev.event, ev.label, prefix, this.line);
          return;
        }
        const transcript = isForwarded && this.opts.forwarded === 'raw' ? this.raw : this.annotated;
        transcript.write(ev.event, LABEL_TEXT[ev.label] ?? `${ev.label}:`, prefix, this.line);
        return;
      }
      case 'forwarded':
        if (this.opts.forwarded === 'none' || this.compact) return;
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
