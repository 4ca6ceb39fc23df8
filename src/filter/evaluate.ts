import type { FilterNode, Sender } from './ast.js';

/**
 * Three-valued truth: a term that does not apply to an event (a message name asked of a
 * status line) is UNKNOWN, and an expression that ends UNKNOWN lets the event through.
 * So `conn=3` hides other connections' status lines but `server and not DataRow` keeps them.
 */
export const F = 0;
export const T = 1;
export const U = 2;
export type Truth = typeof F | typeof T | typeof U;

/** What the terms of an expression can ask of one event or message. */
export interface Facts {
  conn: number | null;
  sender: Sender | null;
  /** The message's normalized name, or null when names do not apply. */
  name: string | null;
  /** Normalized nested names (DecodedMessage.sub). */
  sub: readonly string[];
  /** Whether names apply at all: false for non-message events (every name term is unknown). */
  named: boolean;
  query: Truth;
  error: Truth;
  /** The SQL the event or message carries; null: none known (false for a message, unknown otherwise). */
  sql: string | null;
}

/** A term of an expression: anything but the connectives. */
export type Term = Exclude<FilterNode, { k: 'or' | 'and' | 'not' }>;

/**
 * Three-valued and, or, not over an expression, with each term's truth from `term`: the
 * one place the connectives are worked out (for events' facts here, and for what a fault
 * rule can know from a type byte alone).
 */
export function evaluateWith<C>(n: FilterNode, ctx: C, term: (t: Term, ctx: C) => Truth): Truth {
  switch (n.k) {
    case 'or': {
      let r: Truth = F;
      for (const i of n.items) {
        const v = evaluateWith(i, ctx, term);
        if (v === T) return T;
        if (v === U) r = U;
      }
      return r;
    }
    case 'and': {
      let r: Truth = T;
      for (const i of n.items) {
        const v = evaluateWith(i, ctx, term);
        if (v === F) return F;
        if (v === U) r = U;
      }
      return r;
    }
    case 'not': {
      const v = evaluateWith(n.item, ctx, term);
      return v === U ? U : v === T ? F : T;
    }
    default:
      return term(n, ctx);
  }
}

/** Evaluate `n` against the facts of one event. */
export function evaluate(n: FilterNode, f: Facts): Truth {
  return evaluateWith(n, f, termOf);
}

/** One term against the facts. */
export function termOf(n: Term, f: Facts): Truth {
  switch (n.k) {
    case 'name':
      if (!f.named) return U;
      return f.name === n.key || f.sub.includes(n.key) ? T : F;
    case 'sender':
      return f.sender === null ? U : f.sender === n.who ? T : F;
    case 'conn':
      return f.conn === null ? U : f.conn >= n.lo && f.conn <= n.hi ? T : F;
    case 'queries':
      return f.query;
    case 'errors':
      return f.error;
    case 'sql':
      if (f.sql === null) return f.named ? F : U;
      return (n.op === 'contains' ? f.sql.includes(n.pattern) : n.re.test(f.sql)) ? T : F;
  }
}
