import { errorResponse } from '../protocol/backend/error-response.js';
import { decoderFor, tryFields } from '../protocol/registry.js';
import type { Direction } from '../protocol/types.js';
import { evaluate, evaluateWith, F, messageFacts, normalizedName, T, termOf, U, type Facts, type FilterNode, type Term, type Truth } from '../filter/index.js';
import type { MessageDecision, MessageHook, MessageView } from '../session/message-hook.js';
import { actionApplies, decisionFor, type Injected } from './actions.js';
import { parseFaultRule, printRule, type FaultRule } from './rule.js';

/** What can be done to a message known from its header alone (over 1 MiB: it streams). */
const HEADER_ACTIONS: ReadonlySet<string> = new Set(['delay', 'bandwidth', 'stall', 'reset', 'close']);
/** What can be done to the StartupMessage (before the server is contacted). */
const STARTUP_ACTIONS: ReadonlySet<string> = new Set(['error', 'fatal', 'delay', 'stall', 'reset', 'close']);
/** Messages of one statement of the extended protocol. */
const EXTENDED: ReadonlySet<string> = new Set(['P', 'B', 'D', 'E']);
const COPY_FROM_CLIENT: ReadonlySet<string> = new Set(['d', 'c', 'f']);
/** Client messages that run SQL (MessageView.sql): `sql ~ …` is false for every other message. */
const RUN_SQL: ReadonlySet<string> = new Set(['Q', 'P', 'B', 'D', 'E']);

/** A rule as listed: its id, text, whether it is on, and how often it matched and fired. */
export interface FaultInfo {
  id: number;
  /** The rule as given. */
  rule: string;
  /** The rule in canonical form. */
  canonical: string;
  enabled: boolean;
  /** Messages (or, for refuse, connections) its condition held for. */
  matches: number;
  /** Times it acted (the matches its limits let through). */
  hits: number;
}

/** What the rules keep per connection. */
interface ConnState {
  /** Injected errors whose server answer is still to come, by nonce (at most MAX_PENDING). */
  readonly injected: Map<string, Injected>;
  /** Rules that matched a Parse, Bind or Describe whose Execute is still to come: the same statement, one match. */
  readonly open: Set<number>;
  /** A CopyFail was injected and the COPY is not over: the server ignores the rest of its data. */
  copyFailing: boolean;
  /** bandwidth: milliseconds owed but not yet waited, per direction (timers are whole milliseconds). */
  readonly debt: { frontend: number; backend: number };
}

/** Unanswered injected errors kept per connection (a server that discards them never answers). */
const MAX_PENDING = 16;

interface RuleState {
  readonly id: number;
  readonly rule: FaultRule;
  readonly canonical: string;
  enabled: boolean;
  matches: number;
  hits: number;
  /** Per limit, how many matches reached it. */
  readonly seen: number[];
}

/**
 * The fault rules in force (--fault, startProxy's addFault), as the sessions' message hook:
 * for each message a rule could apply to, the first enabled rule whose condition holds and
 * whose limits let the match through decides what happens to it (actions.ts). Rules can be
 * added, removed and switched while connections run; counts are kept per rule.
 *
 * An injected error makes the server fail the request itself (actions.ts): the server's
 * answer, recognised by the nonce it quotes, is then replaced by the rule's error, so that
 * client and server agree on what happened.
 */
export class FaultSet implements MessageHook {
  private readonly rules: RuleState[] = [];
  private nextId = 1;
  /** wants(), per direction and type byte, while the rules do not change. */
  private wanted = new Map<string, boolean>();
  private readonly conns = new Map<number, ConnState>();
  /** Injected errors awaiting their answer, over all connections (while any do, server ErrorResponses are looked at). */
  private pending = 0;
  /** One Facts object, reused for every message. */
  private readonly facts: Facts = { conn: null, sender: null, name: null, sub: [], named: false, query: U, error: U, sql: null };

  constructor(
    rules: readonly string[] = [],
    private readonly random: () => number = Math.random,
  ) {
    for (const r of rules) this.add(r);
  }

  /** Parse and add a rule (FaultRuleError if it is not one); returns its id. */
  add(text: string): number {
    const rule = parseFaultRule(text);
    const id = this.nextId++;
    this.rules.push({ id, rule, canonical: printRule(rule), enabled: true, matches: 0, hits: 0, seen: rule.limits.map(() => 0) });
    this.wanted.clear();
    return id;
  }

  /** Remove a rule; false if there is none with this id. */
  remove(id: number): boolean {
    const i = this.rules.findIndex((r) => r.id === id);
    if (i < 0) return false;
    this.rules.splice(i, 1);
    this.wanted.clear();
    return true;
  }

  /** Switch a rule off or on (its counts are kept); false if there is none with this id. */
  setEnabled(id: number, enabled: boolean): boolean {
    const r = this.rules.find((x) => x.id === id);
    if (!r) return false;
    r.enabled = enabled;
    this.wanted.clear();
    return true;
  }

  clear(): void {
    this.rules.length = 0;
    this.wanted.clear();
  }

  list(): FaultInfo[] {
    return this.rules.map((r) => ({ id: r.id, rule: r.rule.source, canonical: r.canonical, enabled: r.enabled, matches: r.matches, hits: r.hits }));
  }

  get size(): number {
    return this.rules.length;
  }

  // --- the message hook ---------------------------------------------------------------

  wants(direction: Direction, type: string): boolean {
    if (this.pending > 0 && direction === 'backend' && type === 'E') return true;
    const key = `${direction}${type}`;
    let w = this.wanted.get(key);
    if (w === undefined) {
      const name = type === 'p' ? null : (decoderFor(direction, type)?.name ?? null);
      w = this.rules.some((r) => r.enabled && actionApplies(r.rule.action, direction, type) && (r.rule.when === null || mayMatch(r.rule.when, direction, type, name) !== F));
      // Sync and Query end a statement that a rule matched at its Parse, Bind or Describe.
      if (!w && direction === 'frontend' && (type === 'S' || type === 'Q')) w = this.rules.some((r) => r.enabled);
      this.wanted.set(key, w);
    }
    return w;
  }

  decide(view: MessageView): MessageDecision | null {
    const m = view.message;
    const type = m.frame.type;
    const conn = this.conns.get(view.conn);
    if (view.direction === 'backend' && type === 'E' && conn !== undefined && conn.injected.size > 0) {
      const replaced = this.answerToInjected(conn, view);
      if (replaced) return replaced;
    }
    if (type === null) return null;
    const facts = messageFacts(m, view.direction === 'frontend' ? 'client' : 'server', view.conn, view.sql, this.facts);
    // A message too long to hold is decided from its header: it can be held or end the connection, not rewritten.
    const headerOnly = view.bytes === null;
    const extended = view.direction === 'frontend' && EXTENDED.has(type);
    if (view.direction === 'frontend' && (type === 'S' || type === 'Q')) conn?.open.clear();
    for (const r of this.rules) {
      if (!r.enabled || !actionApplies(r.rule.action, view.direction, type)) continue;
      if (headerOnly && !HEADER_ACTIONS.has(r.rule.action.k)) continue;
      if (r.rule.when !== null && evaluate(r.rule.when, facts) !== T) continue;
      if (extended && this.sameStatement(view.conn, r.id, type)) continue;
      if (r.rule.action.k === 'error' && COPY_FROM_CLIENT.has(type) && conn?.copyFailing) continue;
      if (!this.fires(r)) continue;
      const note = `fault rule ${r.id} (${r.canonical})`;
      const d = decisionFor(r.rule.action, view, note, this.random, this.state(view.conn).debt);
      if (d.injected) this.remember(view.conn, d.injected);
      return d.decision;
    }
    return null;
  }

  /** The StartupMessage: only rules whose condition names it act on it. */
  startup(view: MessageView): MessageDecision | null {
    const facts = messageFacts(view.message, 'client', view.conn, null, this.facts);
    for (const r of this.rules) {
      if (!r.enabled || r.rule.when === null || !STARTUP_ACTIONS.has(r.rule.action.k) || !namesStartup(r.rule.when)) continue;
      if (evaluate(r.rule.when, facts) !== T || !this.fires(r)) continue;
      return decisionFor(r.rule.action, view, `fault rule ${r.id} (${r.canonical})`, this.random, this.state(view.conn).debt).decision;
    }
    return null;
  }

  /**
   * One statement of the extended protocol is several messages (Parse, Bind, Describe,
   * Execute) that all run its SQL: a rule matches it once, at the first of them.
   */
  private sameStatement(connId: number, rule: number, type: string): boolean {
    const open = this.state(connId).open;
    const seen = open.has(rule);
    if (type === 'E') open.delete(rule);
    else open.add(rule);
    return seen;
  }

  private state(connId: number): ConnState {
    let c = this.conns.get(connId);
    if (!c) {
      c = { injected: new Map(), open: new Set(), copyFailing: false, debt: { frontend: 0, backend: 0 } };
      this.conns.set(connId, c);
    }
    return c;
  }

  connected(conn: number): MessageDecision | null {
    const facts = this.facts;
    facts.conn = conn;
    facts.sender = null;
    facts.name = null;
    facts.sub = [];
    facts.named = false;
    facts.query = U;
    facts.error = U;
    facts.sql = null;
    for (const r of this.rules) {
      if (!r.enabled || r.rule.action.k !== 'refuse') continue;
      if (r.rule.when !== null && evaluate(r.rule.when, facts) !== T) continue;
      if (!this.fires(r)) continue;
      return { close: 'reset', note: `fault rule ${r.id} (${r.canonical})` };
    }
    return null;
  }

  ended(connId: number): void {
    const c = this.conns.get(connId);
    if (c) {
      this.pending -= c.injected.size;
      this.conns.delete(connId);
    }
  }

  /** A match: whether the rule's limits, in order, let it through (counted either way). */
  private fires(r: RuleState): boolean {
    r.matches++;
    const limits = r.rule.limits;
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i]!;
      const seen = ++r.seen[i]!;
      switch (l.k) {
        case 'once':
          if (seen > 1) return false;
          break;
        case 'times':
          if (seen > l.n) return false;
          break;
        case 'after':
          if (seen <= l.n) return false;
          break;
        case 'every':
          if (seen % l.n !== 0) return false;
          break;
        case 'probability':
          if (!(this.random() < l.p)) return false;
          break;
      }
    }
    r.hits++;
    return true;
  }

  private remember(connId: number, inj: Injected): void {
    const c = this.state(connId);
    if (c.injected.size >= MAX_PENDING) {
      // The oldest was discarded by the server (an earlier error in its pipeline): its answer never comes.
      const oldest = c.injected.keys().next().value!;
      c.injected.delete(oldest);
      this.pending--;
    }
    c.injected.set(inj.nonce, inj);
    if (inj.copy) c.copyFailing = true;
    this.pending++;
  }

  /** The server's ErrorResponse to a request pgscope made fail: the rule's error in its place. */
  private answerToInjected(c: ConnState, view: MessageView): MessageDecision | null {
    const f = tryFields(errorResponse, view.message);
    const text = f?.fields.find((x) => x.type === 'M')?.value ?? '';
    for (const [nonce, inj] of c.injected) {
      if (!text.includes(nonce)) continue;
      c.injected.delete(nonce);
      if (inj.copy) c.copyFailing = false;
      this.pending--;
      return { forward: [inj.error], note: `${inj.note}: the server failed the request pgscope replaced; the client gets the rule's error` };
    }
    return null;
  }
}

/** What a type byte tells of a message: its sender, its type, its name (null: not known from the byte). */
interface Header {
  direction: Direction;
  type: string;
  name: string | null;
  /** Everything else unknown. */
  unknown: Facts;
}

/**
 * Whether a condition can hold for messages of this sender and type: everything else it
 * asks (connection, SQL of a request, queries, errors) is unknown, so the answer is F only
 * when the condition is false whatever they are.
 */
function mayMatch(n: FilterNode, direction: Direction, type: string, name: string | null): Truth {
  const unknown: Facts = { conn: null, sender: direction === 'frontend' ? 'client' : 'server', name: null, sub: [], named: false, query: U, error: U, sql: null };
  return evaluateWith(n, { direction, type, name, unknown }, headerTerm);
}

function headerTerm(n: Term, h: Header): Truth {
  if (n.k === 'name' && h.name !== null) {
    // The type byte settles a name, but for messages named by their content: CopyData's
    // replication messages, Authentication's requests (AuthenticationOk, …SASL…).
    if (normalizedName(h.name) === n.key) return T;
    return h.name === 'CopyData' || (h.name === 'Authentication' && n.key.startsWith('authentication')) ? U : F;
  }
  if (n.k === 'sql') return h.direction === 'frontend' && RUN_SQL.has(h.type) ? U : F;
  return termOf(n, h.unknown);
}

/** Whether a condition names the StartupMessage (the only rules that act on it). */
function namesStartup(n: FilterNode): boolean {
  switch (n.k) {
    case 'or':
    case 'and':
      return n.items.some(namesStartup);
    case 'not':
      return false;
    case 'name':
      return n.key === 'startupmessage';
    default:
      return false;
  }
}
