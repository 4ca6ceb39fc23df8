import { useEffect, useState } from 'preact/hooks';
import type { InspectorSource, MessageDetail } from '../../src/inspector/types.js';
import type { JsonlField } from '../../src/output/jsonl/objects.js';
import { arrow, fmtTime } from './format.js';

/** Bytes drawn in the hex dump at most (the rest: say so). */
const MAX_HEX = 16 * 1024;

interface Range {
  start: number;
  end: number;
}

/** A field's value as text for the tree. */
function valueText(f: JsonlField): string {
  const v = f.value;
  if (v === undefined) return '';
  if (v === null) return 'NULL';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) {
    const b = v as { text?: string; hex?: string; length?: number; truncated?: boolean };
    if (typeof b.text === 'string') return `${JSON.stringify(b.text)}${b.truncated ? '…' : ''}`;
    if (typeof b.hex === 'string') return `\\x${b.hex}${b.truncated ? '…' : ''}`;
    return JSON.stringify(v);
  }
  return String(v);
}

/** The deepest field covering byte `at` (offsets from the message's first byte). */
function fieldAt(fields: readonly JsonlField[], at: number, path: string): string | null {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (at >= f.offset && at < f.offset + f.length) {
      const p = `${path}/${i}`;
      return (f.children && fieldAt(f.children, at, p)) ?? p;
    }
  }
  return null;
}

function fieldByPath(fields: readonly JsonlField[], path: string): JsonlField | null {
  let list = fields;
  let found: JsonlField | null = null;
  for (const part of path.split('/').slice(1)) {
    found = list[Number(part)] ?? null;
    if (!found) return null;
    list = found.children ?? [];
  }
  return found;
}

function Field(props: { f: JsonlField; path: string; selected: string | null; onHover: (r: Range | null) => void; onSelect: (path: string) => void; depth: number }) {
  const { f, path } = props;
  const [open, setOpen] = useState(props.depth < 2);
  const isSelected = props.selected === path;
  const within = props.selected !== null && props.selected.startsWith(`${path}/`);
  useEffect(() => {
    if (within) setOpen(true);
  }, [within]);
  return (
    <li>
      <div
        class={`field ${isSelected ? 'selected' : ''} ${f.flag ? `flag-${f.flag}` : ''}`}
        data-testid="field-node"
        data-path={path}
        data-offset={f.offset}
        data-length={f.length}
        onMouseEnter={() => props.onHover({ start: f.offset, end: f.offset + f.length })}
        onMouseLeave={() => props.onHover(null)}
        onClick={() => props.onSelect(path)}
      >
        {f.children && f.children.length > 0 ? (
          <span
            class="twisty"
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
        <span class="f-name">{f.name}</span> <span class="f-value">{valueText(f)}</span>
        {f.typed && (
          <span class="f-typed">
            {' '}
            {f.typed.type} {f.typed.text}
          </span>
        )}
        {f.meaning && <span class="f-meaning"> — {f.meaning}</span>}
        {f.secret && <span class="badge secret">secret</span>}
        {f.flag && <span class="badge">{f.flag}</span>}
        <span class="f-range">
          {' '}
          [{f.offset}..{f.offset + f.length})
        </span>
      </div>
      {open && f.children && f.children.length > 0 && (
        <ul>
          {f.children.map((c, i) => (
            <Field key={i} f={c} path={`${path}/${i}`} selected={props.selected} onHover={props.onHover} onSelect={props.onSelect} depth={props.depth + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}

function Hex(props: { raw: string; size: number; lit: Range | null; onByte: (at: number) => void }) {
  const n = Math.min(props.raw.length / 2, MAX_HEX);
  const lines = [];
  for (let row = 0; row < n; row += 16) {
    const cells = [];
    let ascii = '';
    for (let i = row; i < Math.min(row + 16, n); i++) {
      const byte = parseInt(props.raw.slice(i * 2, i * 2 + 2), 16);
      const on = props.lit !== null && i >= props.lit.start && i < props.lit.end;
      cells.push(
        <span key={i} class={`hb ${on ? 'lit' : ''}`} data-testid="hex-byte" data-offset={i} onClick={() => props.onByte(i)}>
          {props.raw.slice(i * 2, i * 2 + 2)}
        </span>,
      );
      ascii += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '·';
    }
    lines.push(
      <div key={row} class="hex-line">
        <span class="hex-off">{row.toString(16).padStart(6, '0')}</span>
        <span class="hex-cells">{cells}</span>
        <span class="hex-ascii">{ascii}</span>
      </div>,
    );
  }
  return (
    <div class="hex" data-testid="hex-dump">
      {lines}
      {props.raw.length / 2 > n && <div class="note">… {props.raw.length / 2 - n} more bytes not drawn</div>}
      {props.raw.length / 2 < props.size && <div class="note">{props.size - props.raw.length / 2} more bytes of this message were not kept (the bytes are bounded)</div>}
    </div>
  );
}

export function MessagePane(props: { source: InspectorSource; id: number | null }) {
  const [detail, setDetail] = useState<MessageDetail | null | undefined>(undefined);
  const [hover, setHover] = useState<Range | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  useEffect(() => {
    setSelected(null);
    setHover(null);
    if (props.id === null) return setDetail(undefined);
    let gone = false;
    void props.source.message(props.id).then((d) => !gone && setDetail(d));
    return () => {
      gone = true;
    };
  }, [props.id, props.source]);

  if (props.id === null) return <div class="pane empty">Select a message to see its fields and bytes.</div>;
  if (detail === undefined) return <div class="pane">loading…</div>;
  if (detail === null) return <div class="pane empty">Message {props.id} is no longer kept (the inspector keeps the newest messages of each connection).</div>;
  const m = detail.message;
  const r = detail.row;
  const fields = m?.fields ?? [];
  const sel = selected ? fieldByPath(fields, selected) : null;
  const lit = hover ?? (sel ? { start: sel.offset, end: sel.offset + sel.length } : null);
  return (
    <div class="pane" data-testid="message-pane">
      <div class="pane-head">
        <b>{r.msg}</b> #{r.id} · connection #{r.conn ?? '–'} · {arrow(r.from, r.to)} · {fmtTime(r.ts)} · {r.size} bytes
        {m && m.sub.length > 0 && <span> · {m.sub.join(' › ')}</span>}
      </div>
      {detail.problem && <div class="err">{detail.problem}</div>}
      {m?.error && <div class="err">{m.error.message}</div>}
      <div class="pane-body">
        <ul class="tree" data-testid="field-tree">
          {fields.map((f, i) => (
            <Field key={`${r.id}-${i}`} f={f} path={`/${i}`} selected={selected} onHover={setHover} onSelect={setSelected} depth={0} />
          ))}
        </ul>
        {m && m.raw !== undefined ? (
          <Hex
            raw={m.raw}
            size={m.size}
            lit={lit}
            onByte={(at) => {
              const p = fieldAt(fields, at, '');
              setHover(null);
              setSelected(p);
            }}
          />
        ) : (
          <div class="hex note" data-testid="no-bytes">
            {m?.redacted ? 'The bytes are not shown: this message carries a secret and passwords are redacted.' : 'The bytes of this message were not kept.'}
          </div>
        )}
      </div>
    </div>
  );
}
