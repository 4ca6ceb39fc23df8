/**
 * Arrays of the scalar types, in both formats.
 *
 * array_send: Int32 ndim, Int32 flags (1 = has NULLs), Int32 element type OID, then per
 * dimension Int32 size and Int32 lower bound, then every element in row-major order as
 * Int32 length (-1 = NULL) and that many bytes of the element's own binary form.
 *
 * array_out: {a,b,NULL}, nested braces per dimension, elements double-quoted when empty,
 * spelled NULL, or holding a quote, backslash, brace, the delimiter or white space (with
 * \" and \\ escapes inside quotes), and a "[lb:ub]=" prefix when a lower bound is not 1.
 *
 * The value is nested JavaScript arrays (lower bounds dropped), SQL NULL as null.
 */
import type { Decoded, ScalarCodec } from './codec.js';

/** MAXDIM in PostgreSQL's array.h. */
const MAXDIM = 6;
/** typdelim: ',' for every type handled here (only box uses ';'). */
const DELIM = ',';
/** array_isspace: the C locale's isspace. */
const SPACE = /[ \t\n\r\v\f]/;

/**
 * The work one array may take, in either format: at most this many elements, and this
 * many characters of element text and value strings together. Beyond, the array is not
 * decoded (null: its escaped bytes are shown), since pgscope only ever shows a bounded
 * prefix of a value and an element's text can be far longer than its bytes (a binary
 * numeric, a text numeric with an exponent).
 */
export const ARRAY_MAX_ELEMENTS = 10_000;
export const ARRAY_MAX_CHARS = 100_000;

/** Counts the elements and characters an array decoded so far; false once over budget. */
class Budget {
  private elements = 0;
  private chars = 0;

  take(e: Decoded): boolean {
    this.elements++;
    this.chars += e.text.length;
    if (typeof e.value === 'string' && e.value !== e.text) this.chars += e.value.length;
    return this.elements <= ARRAY_MAX_ELEMENTS && this.chars <= ARRAY_MAX_CHARS;
  }

  /** A NULL element costs an element (and the four characters of NULL). */
  takeNull(): boolean {
    this.elements++;
    this.chars += 4;
    return this.elements <= ARRAY_MAX_ELEMENTS && this.chars <= ARRAY_MAX_CHARS;
  }
}

type Tree = Element[];
type Element = Decoded | null | Tree;

function isTree(e: Element): e is Tree {
  return Array.isArray(e);
}

function quoteElement(t: string): string {
  const needs = t === '' || t.toLowerCase() === 'null' || /["\\{}, \t\n\r\v\f]/.test(t);
  return needs ? `"${t.replace(/["\\]/g, (c) => '\\' + c)}"` : t;
}

function outTree(tree: Tree): string {
  return `{${tree.map((e) => (e === null ? 'NULL' : isTree(e) ? outTree(e) : quoteElement(e.text))).join(DELIM)}}`;
}

function valueTree(tree: Tree): unknown[] {
  return tree.map((e) => (e === null ? null : isTree(e) ? valueTree(e) : e.value));
}

/** Split a flat row-major list into nested arrays of the given dimensions. */
function nest(flat: (Decoded | null)[], dims: number[]): Tree {
  if (dims.length === 1) return flat;
  const [, ...rest] = dims;
  const stride = rest.reduce((a, b) => a * b, 1);
  const out: Tree = [];
  for (let i = 0; i < flat.length; i += stride) out.push(nest(flat.slice(i, i + stride), rest));
  return out;
}

export function arrayFromBinary(b: Buffer, elementOid: number, element: ScalarCodec): Decoded | null {
  if (b.length < 12) return null;
  const ndim = b.readInt32BE(0);
  const flags = b.readInt32BE(4);
  if (ndim < 0 || ndim > MAXDIM || (flags !== 0 && flags !== 1)) return null;
  if (b.readUInt32BE(8) !== elementOid) return null;
  let at = 12;
  if (b.length < at + 8 * ndim) return null;
  const dims: number[] = [];
  const lbounds: number[] = [];
  let count = ndim === 0 ? 0 : 1;
  for (let d = 0; d < ndim; d++) {
    const size = b.readInt32BE(at);
    const lb = b.readInt32BE(at + 4);
    at += 8;
    // The upper bound must fit in an Int32 too (array_recv's overflow check).
    if (size < 0 || lb + size - 1 > 0x7fffffff) return null;
    dims.push(size);
    lbounds.push(lb);
    count *= size;
  }
  // Every element takes at least its 4-byte length word: anything larger is a lie.
  if (count > (b.length - at) / 4) return null;
  if (count > ARRAY_MAX_ELEMENTS) return null;
  const budget = new Budget();
  const flat: (Decoded | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > b.length) return null;
    const len = b.readInt32BE(at);
    at += 4;
    if (len === -1) {
      if (!budget.takeNull()) return null;
      flat.push(null);
      continue;
    }
    if (len < 0 || at + len > b.length) return null;
    const e = element.fromBinary(b.subarray(at, at + len));
    if (e === null || !budget.take(e)) return null;
    flat.push(e);
    at += len;
  }
  if (at !== b.length) return null;
  if (count === 0) return { value: [], text: '{}' };
  const tree = nest(flat, dims);
  const bounds = lbounds.some((lb) => lb !== 1) ? lbounds.map((lb, i) => `[${lb}:${lb + dims[i]! - 1}]`).join('') + '=' : '';
  return { value: valueTree(tree), text: bounds + outTree(tree) };
}

/** array_in's grammar: an optional "[lb:ub]…=" prefix, then nested braces of elements. */
class TextArrayParser {
  private i = 0;
  private readonly budget = new Budget();

  constructor(
    private readonly s: string,
    private readonly element: ScalarCodec,
  ) {}

  parse(): Tree | null {
    this.skipSpace();
    if (this.s[this.i] === '[') {
      // Dimension decoration: checked for shape only; the value drops lower bounds.
      const m = /^(\[\s*[+-]?\d+\s*(:\s*[+-]?\d+\s*)?\])+\s*=/.exec(this.s.slice(this.i));
      if (!m) return null;
      this.i += m[0].length;
      this.skipSpace();
    }
    const tree = this.level(0);
    if (tree === null) return null;
    this.skipSpace();
    return this.i === this.s.length && rectangular(tree) ? tree : null;
  }

  private skipSpace(): void {
    while (this.i < this.s.length && SPACE.test(this.s[this.i]!)) this.i++;
  }

  private level(depth: number): Tree | null {
    if (depth >= MAXDIM || this.s[this.i] !== '{') return null;
    this.i++;
    const out: Tree = [];
    this.skipSpace();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      let e: Element | undefined;
      if (this.s[this.i] === '{') {
        const sub = this.level(depth + 1);
        if (sub === null) return null;
        e = sub;
      } else {
        const scalar = this.scalar();
        if (scalar === undefined) return null;
        e = scalar;
      }
      out.push(e);
      this.skipSpace();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== DELIM) return null;
    }
  }

  /** One element, quoted or not; undefined when it does not parse as the element type. */
  private scalar(): Decoded | null | undefined {
    let raw = '';
    let quoted = false;
    let escaped = false;
    // Backslash escapes work in and out of quotes; unquoted trailing white space is dropped.
    let keep = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '\\') {
        if (this.i + 1 >= this.s.length) return undefined;
        raw += this.s[this.i + 1];
        this.i += 2;
        escaped = true;
        keep = raw.length;
      } else if (c === '"') {
        quoted = !quoted;
        this.i++;
        escaped = true;
        keep = raw.length;
      } else if (!quoted && (c === DELIM || c === '}')) break;
      else if (!quoted && c === '{') return undefined;
      else {
        raw += c;
        this.i++;
        if (quoted || !SPACE.test(c)) keep = raw.length;
      }
    }
    if (quoted) return undefined;
    raw = raw.slice(0, keep);
    if (!escaped && raw === '') return undefined;
    if (!escaped && raw.toLowerCase() === 'null') return this.budget.takeNull() ? null : undefined;
    const e = this.element.fromText(raw);
    return e === null || !this.budget.take(e) ? undefined : e;
  }
}

/** Every sub-array at one depth has the same length, and elements are all at the bottom. */
function rectangular(tree: Tree): boolean {
  const shape = (t: Element): number[] | null => {
    if (!isTree(t)) return [];
    if (t.length === 0) return [0];
    const shapes = t.map(shape);
    const first = shapes[0];
    if (!first || shapes.some((s) => s === null || s.join() !== first.join())) return null;
    return [t.length, ...first];
  };
  return shape(tree) !== null;
}

export function arrayFromText(text: string, element: ScalarCodec): Decoded | null {
  const tree = new TextArrayParser(text, element).parse();
  return tree === null ? null : { value: valueTree(tree), text };
}
