import { Component } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { InspectorSource, JsonlMessage, MessageDetail } from '../../src/inspector/types.js';
import type { JsonlField } from '../../src/output/jsonl/objects.js';
import { arrow, errorText, fmtCount, fmtTime, side } from './format.js';

/** Bytes drawn in the hex dump at first; the rest on request (a row of spans per 16 bytes). */
const FIRST_DRAWN = 4096;
const PER_LINE = 16;

interface Range {
  start: number;
  end: number;
}

/** A field's value as text for the tree. */
export function valueText(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'NULL';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'object') {
    const b = v as { text?: unknown; hex?: unknown; length?: unknown; truncated?: unknown };
    const cut = b.truncated === true ? `… (${typeof b.length === 'number' ? fmtCount(b.length) : '?'} bytes in all)` : '';
    if (typeof b.text === 'string') return `${JSON.stringify(b.text)}${cut}`;
    if (typeof b.hex === 'string') return `\\x${b.hex}${cut}`;
    const s = JSON.stringify(v);
    return s.length > 300 ? `${s.slice(0, 299)}…` : s;
  }
  return String(v);
}

/** The path ("/2/0") of the deepest field covering byte `at`, or null. */
export function fieldAt(fields: readonly JsonlField[], at: number, path = ''): string | null {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (at >= f.offset && at < f.offset + f.length) {
      const p = `${path}/${i}`;
      return (f.children && fieldAt(f.children, at, p)) ?? p;
    }
  }
  return null;
}

function fieldByPath(fields: readonly JsonlField[], path: string | null): JsonlField | null {
  if (path === null) return null;
  let list = fields;
  let found: JsonlField | null = null;
  for (const part of path.split('/').slice(1)) {
    found = list[Number(part)] ?? null;
    if (!found) return null;
    list = found.children ?? [];
  }
  return found;
}

const rangeOf = (f: JsonlField | null): Range | null => (f ? { start: f.offset, end: f.offset + f.length } : null);

interface TreeProps {
  selected: string | null;
  hovered: string | null;
  /** Scroll the selected field into view (it was picked from the bytes). */
  reveal: number;
  onHover: (path: string | null) => void;
  onSelect: (path: string) => void;
}

function Field(props: TreeProps & { f: JsonlField; path: string; depth: number }) {
  const { f, path } = props;
  const kids = f.children ?? [];
  const [open, setOpen] = useState(props.depth < 2 && kids.length <= 64);
  const isSelected = props.selected === path;
  const within = props.selected !== null && props.selected.startsWith(`${path}/`);
  const hoverWithin = props.hovered !== null && props.hovered.startsWith(`${path}/`);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (within || hoverWithin) setOpen(true);
  }, [within, hoverWithin]);
  useEffect(() => {
    if (isSelected && props.reveal > 0) ref.current?.scrollIntoView({ block: 'nearest' });
  }, [isSelected, props.reveal]);
  const cls = ['field', isSelected ? 'selected' : '', props.hovered === path ? 'hover' : '', f.flag ? `flag-${f.flag}` : '', f.secret ? 'secret' : ''].filter(Boolean).join(' ');
  return (
    <li>
      <div
        ref={ref}
        class={cls}
        data-testid="field-node"
        data-path={path}
        data-name={f.name}
        data-offset={f.offset}
        data-length={f.length}
        aria-selected={isSelected}
        onMouseEnter={() => props.onHover(path)}
        onMouseLeave={() => props.onHover(null)}
        onClick={() => props.onSelect(path)}
      >
        {kids.length > 0 ? (
          <span
            class="twisty"
            data-testid="field-twisty"
            onClick={(e) => {
              e.stopPropagation();
              setOpen(!open);
            }}
          >
            {open ? '▾' : '▸'}
          </span>
        ) : (
          <span class="twisty" />
        )}
        <span class="f-name">{f.name}</span>
        {f.value !== undefined && <span class="f-value"> {valueText(f.value)}</span>}
        {f.typed && (
          <span class="f-typed" data-testid="field-typed" title={`read as ${f.typed.type}`}>
            {' '}
            {f.typed.text}
            {f.typed.truncated ? '…' : ''} <span class="f-type">::{f.typed.type}</span>
          </span>
        )}
        {f.meaning && <span class="f-meaning"> — {f.meaning}</span>}
        {f.secret && (
          <span class="badge secret" data-testid="field-secret" title="a password, hash or key">
            secret
          </span>
        )}
        {f.flag && (
          <span class={`badge flag ${f.flag}`} title={f.flag === 'unparsed' ? 'bytes the codec did not understand' : 'bytes forwarded but not kept'}>
            {f.flag}
          </span>
        )}
        {f.retained !== undefined && f.retained < f.length && (
          <span class="badge" title="bytes kept of this field">
            {fmtCount(f.retained)} of {fmtCount(f.length)} bytes kept
          </span>
        )}
        <span class="f-range">
          {' '}
          @{f.offset} +{f.length}
        </span>
      </div>
      {open && kids.length > 0 && (
        <ul>
          {kids.map((c, i) => (
            <Field key={i} {...props} f={c} path={`${path}/${i}`} depth={props.depth + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}

interface LineProps {
  at: number;
  hex: string;
  /** The lit bytes within this line (relative to the message), or -1 when none. */
  lo: number;
  hi: number;
  cursor: number;
}

/** One line of the dump (16 bytes); drawn again only when what is lit on it changes. */
class HexLine extends Component<LineProps> {
  override shouldComponentUpdate(n: LineProps): boolean {
    const p = this.props;
    return n.hex !== p.hex || n.lo !== p.lo || n.hi !== p.hi || n.cursor !== p.cursor || n.at !== p.at;
  }
  override render() {
    const { at, hex, lo, hi, cursor } = this.props;
    const cells = [];
    const chars = [];
    for (let k = 0; k * 2 < hex.length; k++) {
      const i = at + k;
      const pair = hex.slice(k * 2, k * 2 + 2);
      const byte = parseInt(pair, 16);
      const cls = `${i >= lo && i < hi ? 'lit' : ''}${i === cursor ? ' cursor' : ''}`;
      cells.push(
        <span key={i} class={`hb ${cls}`} data-testid="hex-byte" data-offset={i}>
          {pair}
        </span>,
      );
      chars.push(
        <span key={i} class={`ab ${cls}`} data-offset={i}>
          {byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '·'}
        </span>,
      );
    }
    return (
      <div class="hex-line">
        <span class="hex-off">{at.toString(16).padStart(6, '0')}</span>
        <span class="hex-cells">{cells}</span>
        <span class="hex-ascii">{chars}</span>
      </div>
    );
  }
}

function Hex(props: { m: JsonlMessage; raw: string; lit: Range | null; cursor: number; onHoverByte: (at: number | null) => void; onClickByte: (at: number) => void }) {
  const [all, setAll] = useState(false);
  const bytes = props.raw.length / 2;
  const drawn = all ? bytes : Math.min(bytes, FIRST_DRAWN);
  const offsetOf = (e: Event): number | null => {
    const t = e.target as HTMLElement | null;
    const v = t?.dataset?.['offset'];
    return v === undefined ? null : Number(v);
  };
  const lines = [];
  for (let at = 0; at < drawn; at += PER_LINE) {
    const end = Math.min(at + PER_LINE, drawn);
    const lit = props.lit && props.lit.start < end && props.lit.end > at ? props.lit : null;
    lines.push(<HexLine key={at} at={at} hex={props.raw.slice(at * 2, end * 2)} lo={lit ? lit.start : -1} hi={lit ? lit.end : -1} cursor={props.cursor >= at && props.cursor < end ? props.cursor : -1} />);
  }
  return (
    <div class="hex-wrap">
      <div
        class="hex"
        data-testid="hex-dump"
        onMouseOver={(e) => {
          const at = offsetOf(e);
          if (at !== null) props.onHoverByte(at);
        }}
        onMouseLeave={() => props.onHoverByte(null)}
        onClick={(e) => {
          const at = offsetOf(e);
          if (at !== null) props.onClickByte(at);
        }}
      >
        {lines}
      </div>
      {drawn < bytes && (
        <button class="link" data-testid="hex-more" onClick={() => setAll(true)}>
          show all {fmtCount(bytes)} bytes ({fmtCount(bytes - drawn)} more)
        </button>
      )}
      {(props.m.rawTruncated || bytes < props.m.size) && (
        <div class="note" data-testid="raw-truncated">
          Only the first {fmtCount(bytes)} of this message’s {fmtCount(props.m.size)} bytes were kept (the bytes kept per message are bounded); fields beyond them have no bytes to light.
        </div>
      )}
    </div>
  );
}

/** ErrorResponse / NoticeResponse: the SQLSTATE with its name and the message, read from the fields. */
function errorSummary(m: JsonlMessage): { code: string; meaning: string; severity: string; message: string } | null {
  if (m.msg !== 'ErrorResponse' && m.msg !== 'NoticeResponse') return null;
  let code = '';
  let meaning = '';
  let severity = '';
  let message = '';
  for (const f of m.fields) {
    const kind = f.children?.[0];
    const value = f.children?.[1];
    if (!kind || !value) continue;
    if (kind.value === 'C') {
      code = typeof value.value === 'string' ? value.value : '';
      meaning = value.meaning ?? '';
    } else if (kind.value === 'V' || (kind.value === 'S' && !severity)) severity = typeof value.value === 'string' ? value.value : severity;
    else if (kind.value === 'M') message = typeof value.value === 'string' ? value.value : '';
  }
  return code || message ? { code, meaning, severity, message } : null;
}

export function MessagePane(props: { source: InspectorSource; id: number | null }) {
  const [detail, setDetail] = useState<MessageDetail | null | undefined>(undefined);
  const [failed, setFailed] = useState<string | null>(null);
  const [hovered, setHovered] = useState<string | null>(null);
  const [hoverByte, setHoverByte] = useState<number | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [reveal, setReveal] = useState(0);
  useEffect(() => {
    setSelected(null);
    setHovered(null);
    setHoverByte(null);
    setFailed(null);
    if (props.id === null) return setDetail(undefined);
    let gone = false;
    props.source.message(props.id).then(
      (d) => !gone && setDetail(d),
      (e: unknown) => !gone && setFailed(errorText(e)),
    );
    return () => {
      gone = true;
    };
  }, [props.id, props.source]);

  const m = detail?.message ?? null;
  const fields = m?.fields ?? [];
  const byteField = useMemo(() => (hoverByte === null ? null : fieldAt(fields, hoverByte)), [fields, hoverByte]);

  if (props.id === null) return <div class="pane empty">Select a message to see its fields and its bytes.</div>;
  if (failed) return <div class="pane err">Message {props.id}: {failed}</div>;
  if (detail === undefined) return <div class="pane muted">loading message {props.id}…</div>;
  if (detail === null)
    return (
      <div class="pane empty" data-testid="message-gone">
        Message {props.id} is no longer kept: the inspector keeps the newest messages of each connection.
      </div>
    );
  const r = detail.row;
  const hoverPath = hovered ?? byteField;
  const lit = rangeOf(fieldByPath(fields, hoverPath)) ?? rangeOf(fieldByPath(fields, selected));
  const err = m ? errorSummary(m) : null;
  return (
    <div class="pane" data-testid="message-pane" data-id={r.id}>
      <div class="pane-head">
        <b class={`from-${r.from}`} data-testid="pane-title">
          {r.msg}
          {r.sub.length > 0 && ` › ${r.sub.join(' › ')}`}
        </b>{' '}
        <span class="muted">
          message {r.id} · connection #{r.conn ?? '–'} · {side(r.from)} → {side(r.to)} ({arrow(r.from, r.to)}) · {fmtTime(r.ts)} UTC
          {r.kind !== 'action' && ` · ${plural(r.size)}`}
          {m && m.typeByte !== null && ` · type byte '${m.typeByte}'`}
          {m && ` · stream offset ${fmtCount(m.offset)}`}
        </span>
      </div>
      {err && (
        <div class={`sqlstate ${r.msg === 'ErrorResponse' ? 'err' : ''}`} data-testid="sqlstate">
          {err.severity} <b>{err.code}</b> {err.meaning.replace(/^SQLSTATE \S+ /, '')}
          {err.message && `: ${err.message}`}
        </div>
      )}
      {detail.problem && (
        <div class={r.kind === 'action' ? 'note' : 'err'} data-testid="message-problem">
          {detail.problem}
        </div>
      )}
      {m?.error && <div class="err">{m.error.message}</div>}
      {m && (
        <div class="pane-body">
          <ul class="tree" data-testid="field-tree" onMouseLeave={() => setHovered(null)}>
            {fields.map((f, i) => (
              <Field key={`${r.id}-${i}`} f={f} path={`/${i}`} depth={0} selected={selected} hovered={hoverPath} reveal={reveal} onHover={setHovered} onSelect={setSelected} />
            ))}
          </ul>
          {m.raw !== undefined && m.raw.length > 0 ? (
            <Hex
              m={m}
              raw={m.raw}
              lit={lit}
              cursor={hoverByte ?? -1}
              onHoverByte={setHoverByte}
              onClickByte={(at) => {
                setSelected(fieldAt(fields, at));
                setReveal((n) => n + 1);
              }}
            />
          ) : (
            <div class="hex-wrap note" data-testid="no-bytes">
              {m.redacted
                ? 'The bytes are not shown: this message carries a secret and passwords are redacted (--redact-passwords).'
                : 'The bytes of this message were not kept, only its fields.'}
            </div>
          )}
        </div>
      )}
    </div>
  );
}

function plural(n: number): string {
  return `${fmtCount(n)} byte${n === 1 ? '' : 's'}`;
}
