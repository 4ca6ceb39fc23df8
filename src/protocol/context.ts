/**
 * What one conversation has said so far that changes how later bytes are read. The codec
 * is sans-I/O, but not context-free: the meaning of a 'p' message depends on the
 * authentication request before it, a CopyData's payload on whether a START_REPLICATION
 * led to CopyBothResponse, and (when the conversation follows statements) a DataRow's
 * column types on the RowDescription that applies to it.
 */
import type { StatementTyping } from './statement-typing.js';

export interface PgoutputOptions {
  /** proto_version: 1 (PG 10+), 2 (streaming, PG 14+), 3 (two-phase, PG 15+), 4 (parallel streaming, PG 16+). */
  protoVersion: number;
  /** streaming option: 'off', 'on' or 'parallel'. */
  streaming: string;
  twoPhase: boolean;
  messages: boolean;
  binary: boolean;
}

export interface ReplicationState {
  kind: 'physical' | 'logical';
  /** Set when the START_REPLICATION options name pgoutput's (proto_version, publication_names). */
  pgoutput: PgoutputOptions | null;
  /** Between pgoutput Stream Start and Stream Stop: messages carry a transaction id (v2+). */
  inStream: boolean;
}

export interface DecodeContext {
  /** The AuthenticationXXX code the server sent last (null before any). */
  authRequest: number | null;
  /** Protocol version from StartupMessage, lowered by NegotiateProtocolVersion. */
  protocol: { major: number; minor: number } | null;
  /** StartupMessage parameters as sent. */
  startupParams: Record<string, string>;
  /** START_REPLICATION sent, CopyBothResponse not yet seen. */
  pendingReplication: ReplicationState | null;
  /** Streaming replication in progress: CopyData carries XLogData, keepalives, feedback. */
  replication: ReplicationState | null;
  /** Which COPY sub-protocol is active. */
  copy: 'none' | 'in' | 'out' | 'both';
  /** The client sent SSLRequest or GSSENCRequest; the server's next byte answers it. */
  awaitingAnswer: 'ssl' | 'gss' | null;
  /**
   * Prepared statements, portals and the requests not answered yet (statement-context.ts),
   * when the conversation was asked to follow them (ConversationOptions.statements): the
   * DataRow and Bind decoders type values by them, and mark secrets with Query and Parse.
   * Null: values stay bytes, nothing is marked.
   */
  statements: StatementTyping | null;
}

export function newDecodeContext(): DecodeContext {
  return { authRequest: null, protocol: null, startupParams: {}, pendingReplication: null, replication: null, copy: 'none', awaitingAnswer: null, statements: null };
}

/**
 * Read a START_REPLICATION command (replication protocol grammar) into the state it will
 * put the stream in. Returns null for anything else.
 *   START_REPLICATION [SLOT name] [PHYSICAL] X/X [TIMELINE n]
 *   START_REPLICATION SLOT name LOGICAL X/X [(option 'value' [, ...])]
 */
export function parseStartReplication(sql: string): ReplicationState | null {
  const m = /^\s*START_REPLICATION\b([\s\S]*)$/i.exec(sql);
  if (!m) return null;
  const rest = m[1]!;
  if (!/\bLOGICAL\b/i.test(rest)) return { kind: 'physical', pgoutput: null, inStream: false };
  const opts = parseReplicationOptions(rest);
  const isPgoutput = 'proto_version' in opts || 'publication_names' in opts;
  if (!isPgoutput) return { kind: 'logical', pgoutput: null, inStream: false };
  const v = Number.parseInt(opts['proto_version'] ?? '1', 10);
  const flag = (k: string): boolean => ['on', 'true', '1', 'yes'].includes((opts[k] ?? 'off').toLowerCase());
  return {
    kind: 'logical',
    pgoutput: {
      protoVersion: Number.isFinite(v) ? v : 1,
      streaming: (opts['streaming'] ?? 'off').toLowerCase() === 'parallel' ? 'parallel' : flag('streaming') ? 'on' : 'off',
      twoPhase: flag('two_phase'),
      messages: flag('messages'),
      binary: flag('binary'),
    },
    inStream: false,
  };
}

/** The parenthesised option list of START_REPLICATION … LOGICAL: name 'value' pairs. */
function parseReplicationOptions(text: string): Record<string, string> {
  const open = text.indexOf('(');
  const out: Record<string, string> = {};
  if (open < 0) return out;
  const re = /"?([A-Za-z_][A-Za-z0-9_]*)"?\s*(?:'((?:[^']|'')*)'|([^,)\s]+))?\s*(?:,|\))/g;
  re.lastIndex = open + 1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/''/g, "'") : (m[3] ?? 'on');
  }
  return out;
}
