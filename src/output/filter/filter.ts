import { evaluate, F, parseExpression, printNode, U, type Facts, type FilterNode } from '../../filter/index.js';
import type { ProxyEvent, Sink } from '../../session/events.js';
import { factsOf } from './event-facts.js';

export { FilterError } from '../../filter/index.js';

/** A parsed --filter: which events reach the message outputs (forwarding never looks at it). */
export interface Filter {
  matches(ev: ProxyEvent): boolean;
  /** The expression as given. */
  readonly source: string;
  /** The expression in canonical form: names as the codec spells them, needed parentheses only. */
  readonly canonical: string;
}

class ParsedFilter implements Filter {
  /** Reused for every event: matching allocates nothing for most messages. */
  private readonly facts: Facts = { conn: null, sender: null, name: null, sub: [], named: false, query: U, error: U, sql: null };

  constructor(
    readonly source: string,
    private readonly root: FilterNode,
  ) {}

  get canonical(): string {
    return printNode(this.root);
  }

  matches(ev: ProxyEvent): boolean {
    return evaluate(this.root, factsOf(ev, this.facts)) !== F;
  }
}

/** Parse a --filter expression; throws FilterError (position, what was expected) when it is not one. */
export function parseFilter(expr: string): Filter {
  return new ParsedFilter(expr, parseExpression(expr));
}

/** The start-up line that says a filter is on, e.g. `--filter: showing only server and not DataRow`. */
export function describeFilter(f: Filter): string {
  return `--filter: showing only ${f.canonical}`;
}

/** `sink` behind --filter: events the filter rejects never reach it (forwarding is untouched). */
export function filterSink(sink: Sink, filter: Filter): Sink {
  return {
    write(ev) {
      if (filter.matches(ev)) sink.write(ev);
    },
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}
