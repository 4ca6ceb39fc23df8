import type { MessageCodec } from '../decoder.js';
import type { Reader } from '../reader.js';
import { isMessage, num, span, spansNamed, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';
import { describeFormat } from '../type-names.js';
import { readCount } from './counts.js';

const OVERALL: Record<number, string> = {
  0: 'overall format: textual (rows separated by newlines)',
  1: 'overall format: binary (similar to DataRow format)',
};

/**
 * The body shared by CopyInResponse, CopyOutResponse and CopyBothResponse:
 *   Int8 — overall COPY format: "0 indicates the overall COPY format is textual … 1
 *          indicates the overall copy format is binary".
 *   Int16 — "The number of columns in the data to be copied (denoted N below)."
 *   Int16[N] — "The format codes to be used for each column. Each must presently be zero
 *          (text) or one (binary). All must be zero if the overall copy format is textual."
 */
function readCopyResponse(r: Reader): void {
  const overall = r.uint8('overall format', (v) => OVERALL[v] ?? `unknown overall format ${v}`);
  if (!(overall in OVERALL)) r.fail('bad-value', `an overall COPY format of 0 (textual) or 1 (binary), got ${overall}`, r.pos - 1);
  const n = readCount(r, 'int16', 'number of columns', 'column format code', 2);
  for (let i = 1; i <= n; i++) {
    const f = r.int16('format code', (c) => {
      const d = describeFormat(c);
      return d ? `column ${i} ${d}` : `column ${i}: unknown format code ${c}`;
    });
    if (f !== 0 && f !== 1) r.fail('bad-value', `column ${i}: a format code of 0 (text) or 1 (binary), got ${f}`, r.pos - 2);
    if (overall === 0 && f !== 0) r.fail('bad-value', `column ${i}: format code 0, as "all must be zero if the overall copy format is textual"`, r.pos - 2);
  }
}

/** The fields of CopyInResponse, CopyOutResponse and CopyBothResponse. */
export interface CopyResponse {
  /** Overall COPY format: 0 textual, 1 binary. */
  overallFormat: number;
  /** "The format codes to be used for each column": 0 text, 1 binary (all 0 if the overall format is textual). */
  columnFormats: number[];
}

/** The codec of one of the three CopyXResponse messages (same body). */
export function copyResponse(name: string, type: string): MessageCodec<CopyResponse> {
  return {
    name,
    readsContext: false,
    decode: readCopyResponse,
    fields(m) {
      const spans = wholeSpans(m, name, isMessage(m, 'backend', type));
      return { overallFormat: num(m, span(m, spans, 'overall format')), columnFormats: spansNamed(spans, 'format code').map((s) => num(m, s)) };
    },
    encode(f) {
      return writeMessage(type, name, (w) => {
        if (!(f.overallFormat in OVERALL)) w.fail('overall format', `0 (textual) or 1 (binary), got ${f.overallFormat}`);
        w.uint8(f.overallFormat, 'overall format');
        w.int16(f.columnFormats.length, 'number of columns');
        for (const c of f.columnFormats) {
          if (c !== 0 && c !== 1) w.fail('format code', `0 (text) or 1 (binary), got ${c}`);
          if (f.overallFormat === 0 && c !== 0) w.fail('format code', 'all must be zero if the overall copy format is textual');
          w.int16(c, 'format code');
        }
      });
    },
  };
}
