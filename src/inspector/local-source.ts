import type { Inspector } from './inspector.js';
import type { InspectorSource } from './types.js';

/** The page's questions answered by an Inspector in the same process (a report's page, tests). */
export function localSource(ins: Inspector): InspectorSource {
  return {
    overview: async () => ins.overview(),
    messages: async (q) => ins.queryMessages(q),
    message: async (id) => ins.message(id),
    statements: async (q) => ins.queryStatements(q),
    fingerprints: async (conn) => ins.fingerprints(conn),
    series: async (conn) => ins.series(conn),
  };
}
