/**
 * What the inspector's page asks and gets: one contract for the three ways it is fed. Live
 * (`--ui`) and `pgscope view` answer over HTTP (src/web/); the self-contained report
 * (`pgscope report`) runs the same Inspector (./inspector.ts) inside the page over the JSON
 * lines embedded in it. Everything here is JSON.
 *
 * Times are microseconds since the epoch (`ts`, as in JSON lines), durations milliseconds.
 */
import type { JsonlMessage, JsonlObject, JsonlStatement } from '../output/jsonl/objects.js';
import type { SecurityVerdict } from '../analysis/records.js';
import type { TlsInfo } from '../session/events.js';

export type { JsonlMessage, JsonlObject, JsonlStatement };

type Endpoint = { address: string; port: number };

/** One connection as the page lists it: what was learnt of it so far. */
export interface ConnectionSummary {
  conn: number;
  /** When the client connected (µs), or when the capture first saw it. */
  opened: number;
  /** When both legs closed, or null while open. */
  closed: number | null;
  state: 'open' | 'closed';
  /** Why it closed ("client hung up", …), null while open. */
  reason: string | null;
  client: Endpoint | null;
  /** From the StartupMessage. */
  user: string | null;
  database: string | null;
  applicationName: string | null;
  /** TLS with the client: null for plaintext (or not known). `direct`: direct TLS, no SSLRequest. */
  clientTls: (TlsInfo & { direct: boolean }) | null;
  /** The server chosen, and why (e.g. "fixed by --server-host", "SNI db1.example.com"). */
  server: { host: string; port: number; why: string } | null;
  serverTls: TlsInfo | null;
  security: SecurityVerdict | null;
  /** Decrypted bytes each side sent (counted from messages while open; the proxy's count once closed). */
  bytesFromClient: number;
  bytesFromServer: number;
  /** Messages seen, and how many of them the inspector no longer keeps (its per-connection ring). */
  messages: number;
  droppedMessages: number;
  statements: number;
  /** ErrorResponses from the server, plus bytes the codec could not frame or decode. */
  errors: number;
  /** The last error's words, for the list ("22012 division by zero"). */
  lastError: string | null;
}

/** One line of the message list: enough to draw it and to filter it. */
export interface MessageRow {
  /** Global sequence number, from 1, in the order pgscope saw messages. */
  id: number;
  conn: number | null;
  ts: number;
  from: 'client' | 'server' | 'script';
  to: 'client' | 'server' | 'script';
  dir: 'frontend' | 'backend';
  /** Message name as the codec spells it ("Query", "AuthenticationSASL", "CopyData"). */
  msg: string;
  /** Nested payload names (CopyData → XLogData → Insert). */
  sub: string[];
  /** Bytes on the wire. */
  size: number;
  /** One line: what a person needs to recognise it (`"select 1"`, `(1, 'teapot')`, `ERROR 22012 division by zero`). */
  summary: string;
  /** An ErrorResponse, or bytes the codec could not decode. */
  error: boolean;
  /**
   * A codec-error or unparsed line rather than a message (no fields), or an action of
   * pgscope's own on this connection (a fault rule acting: msg "fault", the words in summary).
   */
  kind: 'message' | 'codec-error' | 'unparsed' | 'action';
}

/**
 * A message as a live proxy hands it to the inspector (src/app/live-inspector.ts): its row
 * and what the inspector follows, read from the decoded message, and its JSON-lines object
 * as a line, parsed only if the page asks for it (most messages are never looked at one by one).
 */
export interface LiveMessage {
  row: Omit<MessageRow, 'id' | 'kind'>;
  /** The SQL a client request runs (Query, Parse, Bind, Describe, Execute), else null. */
  sql: string | null;
  /** A client's StartupMessage: its parameters (user, database, application_name …). */
  startup: Record<string, string> | null;
  /** A ReadyForQuery saying idle: a transaction ended. */
  idle: boolean;
  /** Bytes it takes (its JSON line's length, or an estimate). */
  weight: number;
  /** Its JSON-lines object, as a line of text (parsed when asked for) or made when asked for. */
  detail: string | (() => JsonlMessage);
}

/** A message with everything the inspector pane shows: the JSON-lines object (fields with offsets, raw hex). */
export interface MessageDetail {
  row: MessageRow;
  /** The JSON-lines object: `fields` (offset/length from the message's first byte), `raw` (hex, bounded), `redacted`. */
  message: JsonlMessage | null;
  /** For codec errors and unparsed bytes: what went wrong. */
  problem: string | null;
}

export interface MessageQuery {
  /** The --filter language (src/filter), with `sql ~ "…"`, `sql ~* "…"`, `sql contains "…"`. Empty: everything. */
  filter?: string;
  /** Plain text, case-insensitive, over the name and summary line. */
  search?: string;
  conn?: number;
  offset: number;
  limit: number;
}

export interface MessagePage {
  /** Rows matching, of those kept. */
  total: number;
  offset: number;
  rows: MessageRow[];
  /** A filter that does not parse: its message (with the column) and nothing else. */
  error?: string;
}

/** A completed statement: the JSON-lines object plus where it sits. */
export interface StatementRow extends JsonlStatement {
  id: number;
  conn: number;
  /** Transaction number within its connection: statements between two idle ReadyForQuery share one. */
  txn: number;
  /** Started before the previous statement on its connection had completed (a pipeline). */
  pipelined: boolean;
  /** The SQL normalised (constants replaced), as --summary groups it. */
  fingerprint: string;
  /** Id of the first message of the request, when kept. */
  firstMessage: number | null;
}

export interface StatementQuery {
  conn?: number;
  /** Only those that failed. */
  errors?: boolean;
  /** Slowest first instead of in order. */
  slowest?: boolean;
  /** Case-insensitive text in the SQL. */
  search?: string;
  offset: number;
  limit: number;
}

export interface StatementPage {
  total: number;
  offset: number;
  rows: StatementRow[];
}

/** Statements grouped by fingerprint, as --summary reports them. */
export interface FingerprintGroup {
  fingerprint: string;
  count: number;
  errors: number;
  totalMs: number;
  p50: number;
  p95: number;
  maxMs: number;
  /** Most times it ran within one transaction, and where. */
  maxInOneTxn: number;
  maxTxn: { conn: number; txn: number } | null;
  /** maxInOneTxn reached N_PLUS_ONE_REPEATS: likely an N+1 pattern. */
  nPlusOne: boolean;
}

/** Statements per second and latency over time, and a latency histogram. */
export interface Series {
  /** One entry per second that saw statements complete: its start (µs), count, errors, p50/p95/max ms. */
  seconds: { t: number; count: number; errors: number; p50: number; p95: number; max: number }[];
  /** Bucket upper edges in ms (the last is Infinity, sent as null) and counts. */
  histogram: { le: number | null; count: number }[];
}

export interface Overview {
  mode: 'live' | 'capture' | 'report';
  /** What is shown: "listening on 127.0.0.1:5432, forwarding to db:5432", or the capture's file name. */
  title: string;
  /** Values marked secret were redacted before the inspector saw them (--redact-passwords). */
  redacted: boolean;
  /** Changes whenever anything was added: the page refreshes what it shows when it moves. */
  version: number;
  counts: {
    messages: number;
    kept: number;
    dropped: number;
    statements: number;
    statementsKept: number;
    connections: number;
    errors: number;
  };
  /** Bounds of what is kept: messages per connection and in all, their JSON text in bytes, statements, connections. */
  limits: { messagesPerConnection: number; messages: number; bytes: number; statements: number; connections: number };
  /** Earliest and latest time seen (µs), or null before anything. */
  first: number | null;
  last: number | null;
  /** Connections, newest last (at most limits.connections). */
  connections: ConnectionSummary[];
  /** Fault rules can be listed and switched here (live, over HTTP). */
  faults: boolean;
  /** pgscope's status lines of warning or error level, newest last (at most 200). */
  warnings: { ts: number; level: string; text: string }[];
}

/** A fault rule as the page lists it (src/faults FaultInfo). */
export interface FaultRow {
  id: number;
  rule: string;
  enabled: boolean;
  matched: number;
  acted: number;
}

/**
 * What a report embeds (a `<script type="application/json" id="pgscope-data">` element):
 * the JSON-lines objects, fed to an Inspector inside the page.
 */
export interface ReportData {
  title: string;
  redacted: boolean;
  /** When and by which version the report was written. */
  generated: string;
  limits: Overview['limits'];
  objects: JsonlObject[];
}

/** What the page calls; the live page over HTTP, the report directly. */
export interface InspectorSource {
  overview(): Promise<Overview>;
  messages(q: MessageQuery): Promise<MessagePage>;
  message(id: number): Promise<MessageDetail | null>;
  statements(q: StatementQuery): Promise<StatementPage>;
  fingerprints(conn?: number): Promise<FingerprintGroup[]>;
  series(conn?: number): Promise<Series>;
}
