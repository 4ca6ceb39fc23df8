/**
 * The JSON lines schema version, the `v` member of every line (docs/jsonl.md). Raise it
 * when a member is removed or changes meaning; adding members keeps the version.
 */
export const JSONL_VERSION = 1;

/** The `type` member of each line. */
export const JSONL_TYPES = ['connection', 'message', 'codec-error', 'unparsed', 'status', 'security', 'statement', 'dropped'] as const;
