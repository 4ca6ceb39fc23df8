import type { JsonlMessage } from '../output/jsonl/objects.js';
import { requestFields as F } from './jsonl-fields.js';

/** Most prepared statements and portals remembered per connection (a client that never closes them). */
const MAX_NAMES = 1000;

function remember(map: Map<string, string>, name: string, sql: string): void {
  map.delete(name);
  map.set(name, sql);
  if (map.size > MAX_NAMES) map.delete(map.keys().next().value!);
}

/**
 * The SQL a client's request runs, read from JSON-lines messages (the inspector's filter
 * asks `sql ~ "…"` of Bind, Describe and Execute too): a Query's string, a Parse's "query
 * string", and through the prepared statement ("destination prepared statement" of Parse,
 * "source prepared statement" of Bind) and portal ("destination portal") for the rest.
 */
export class RequestSql {
  private readonly statements = new Map<string, string>();
  private readonly portals = new Map<string, string>();

  /** The SQL `m` runs, or null (a server message, or a name never seen). */
  see(m: JsonlMessage): string | null {
    if (m.from !== 'client') return null;
    const f = m.fields;
    switch (m.msg) {
      case 'Query':
        return F.query(f);
      case 'Parse': {
        const sql = F.parseQuery(f);
        if (sql !== null) remember(this.statements, F.parseName(f), sql);
        return sql;
      }
      case 'Bind': {
        const sql = this.statements.get(F.bindStatement(f)) ?? null;
        if (sql !== null) remember(this.portals, F.bindPortal(f), sql);
        return sql;
      }
      case 'Describe':
        return (F.describeStatement(f) ? this.statements : this.portals).get(F.describeName(f)) ?? null;
      case 'Execute':
        return this.portals.get(F.executePortal(f)) ?? null;
      default:
        return null;
    }
  }
}
