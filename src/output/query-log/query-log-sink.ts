import { redactRecord } from '../../analysis/statements/index.js';
import type { ProxyEvent, Sink } from '../../session/events.js';
import type { LineWriter } from '../line-writer.js';
import type { Style } from '../style.js';
import { formatQueryLogLine } from './format-line.js';

export interface QueryLogOptions {
  /**
   * --redact-passwords. The statement stage already redacts the records it emits when
   * told to; this is for a query log fed by other means, and costs nothing otherwise.
   */
  redact: boolean;
  style: Style;
}

/** --query-log: one line per completed statement ('statement' events), see format-line.ts. */
export class QueryLogSink implements Sink {
  constructor(
    private readonly lines: LineWriter,
    private readonly opts: QueryLogOptions,
  ) {}

  write(ev: ProxyEvent): void {
    if (ev.kind !== 'statement') return;
    const r = this.opts.redact ? redactRecord(ev.record) : ev.record;
    this.lines.line(formatQueryLogLine(r, this.opts.style));
  }

  flush(): void {
    this.lines.flush();
  }

  close(): void {
    this.lines.flush();
  }
}
