/**
 * Statements of a connection, from its decoded conversation: the tracker that matches
 * requests to completions (following the protocol's statement context), and the SQL
 * helpers the outputs share (normalisation for the summary, password redaction). Pure: no I/O.
 */
export { StatementTracker } from './tracker.js';
export { statementOutcome } from './command-tag.js';
export { normaliseSql } from './normalise.js';
export { carriesPassword, redactRecord, redactSql, REDACTED } from './redact.js';
export { isEmptySql, splitStatements } from '../../protocol/sql/split.js';
export type { DecodeValue } from './typed-values.js';
