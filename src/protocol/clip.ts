/**
 * Text cut to at most `max` characters, the cut marked with "…" (so the result is never
 * longer than `max`). Used wherever text of unbounded length (SQL, a server's message, a
 * decoded value) is quoted inside a bounded line: status lines, the query log, the summary.
 */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Longest server-chosen text quoted in pgscope's own messages (the server's message itself is logged whole). */
export const SERVER_TEXT_MAX = 200;
