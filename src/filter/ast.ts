/** Who sent a message: the client, the server, or pgscope itself (labels "script -> …"). */
export type Sender = 'client' | 'server' | 'pgscope';

/** A parsed filter expression. */
export type FilterNode =
  | { k: 'or'; items: FilterNode[]; comma: boolean }
  | { k: 'and'; items: FilterNode[] }
  | { k: 'not'; item: FilterNode }
  /** A message name, normalized (message-names.ts) and as the codec spells it. */
  | { k: 'name'; key: string; spelled: string }
  | { k: 'sender'; who: Sender }
  /** Connections lo..hi, inclusive. */
  | { k: 'conn'; lo: number; hi: number }
  | { k: 'queries' }
  | { k: 'errors' }
  /** `sql ~ "…"` (flags '') or `sql ~* "…"` (flags 'i'): `re` is `pattern` compiled once, at parse time. */
  | { k: 'sql'; op: '~' | '~*'; pattern: string; flags: '' | 'i'; re: RegExp }
  /** `sql contains "…"`: a case-sensitive substring. */
  | { k: 'sql'; op: 'contains'; pattern: string };

/** Binding strength: or < and < not < comma list < a single term. */
function strength(n: FilterNode): number {
  switch (n.k) {
    case 'or':
      return n.comma ? 4 : 1;
    case 'and':
      return 2;
    case 'not':
      return 3;
    default:
      return 5;
  }
}

/**
 * The expression written back in canonical form (names as the codec spells them, only the
 * parentheses it needs); parsing the result gives the same expression.
 */
export function printNode(n: FilterNode, context = 0): string {
  const s = printBare(n);
  return strength(n) < context ? `(${s})` : s;
}

/**
 * A string literal as the lexer reads it: in double quotes, `\"` for a double quote, every
 * other backslash as is. (A parsed string never ends in a backslash: `\"` would have been a quote.)
 */
function quote(s: string): string {
  return `"${s.replace(/"/g, '\\"')}"`;
}

function printBare(n: FilterNode): string {
  switch (n.k) {
    case 'or':
      return n.comma ? n.items.map((i) => printNode(i, 5)).join(',') : n.items.map((i) => printNode(i, 1)).join(' or ');
    case 'and':
      return n.items.map((i) => printNode(i, 2)).join(' and ');
    case 'not':
      return `not ${printNode(n.item, 3)}`;
    case 'name':
      return n.spelled;
    case 'sender':
      return n.who;
    case 'conn':
      return n.lo === n.hi ? `conn=${n.lo}` : `conn=${n.lo}-${n.hi}`;
    case 'queries':
    case 'errors':
      return n.k;
    case 'sql':
      return `sql ${n.op} ${quote(n.pattern)}`;
  }
}
