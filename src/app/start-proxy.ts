import { EventEmitter } from 'node:events';
import { filterSink, parseFilter } from '../output/filter/filter.js';
import { jsonlObjectSink } from '../output/jsonl/object-sink.js';
import type { JsonlCodecError, JsonlConnection, JsonlMessage, JsonlObject, JsonlSecurity, JsonlStatement, JsonlStatus, JsonlUnparsed } from '../output/jsonl/objects.js';
import { OutputSetupError } from '../output/output-setup-error.js';
import type { ProxyEvent } from '../session/events.js';
import type { MessageHook } from '../session/message-hook.js';
import { FaultSet, type FaultInfo } from '../faults/fault-set.js';
import { FaultRuleError } from '../faults/rule.js';
import { TlsSetupError } from '../tls/certificates.js';
import { ConfigError, DEFAULTS, validateConfig, type Config } from './config.js';
import { launch } from './launch.js';

/**
 * pgscope as a library: `startProxy()` runs the same proxy as the CLI, for test suites and
 * tools. Options are the CLI's flags in camelCase (Config: `serverHost`,
 * `serverConnectPort`, `serverSslmode`, `logForwarded`, `jsonl`, `pcap`, `queryLog`,
 * `filter`, `redactPasswords`, `overrideAuth`, `ui`, …), with two differences that suit a test
 * suite: it listens on a free port unless `clientListenPort` is given, and it writes no
 * text log unless `logfile` is given. Events reach listeners as objects of the same form as
 * JSON lines (docs/jsonl.md).
 *
 *   const proxy = await startProxy({ serverHost: '127.0.0.1', serverConnectPort: 5432 });
 *   proxy.on('statement', (s) => console.log(s.sql, s.duration));
 *   // connect your client to 127.0.0.1:proxy.port …
 *   await proxy.close();
 */
export interface ProxyOptions extends Partial<Omit<Config, 'demo' | 'colour'>> {
  /** Decides per forwarded message: pass, delay, replace, inject, drop, close (src/session/message-hook.ts). */
  hook?: MessageHook | null;
}

/** What each event name delivers (the JSON-lines object of that type). */
export interface ProxyEventMap {
  /** A decoded message (either direction, or pgscope's own). */
  message: JsonlMessage;
  /** A completed statement, with its duration, rows, tag or error. */
  statement: JsonlStatement;
  /** A connection's life: opened, client-tls, server-connected, server-tls, closed. */
  connection: JsonlConnection;
  /** The security verdict of a connection, after authentication. */
  security: JsonlSecurity;
  /** A status line (pgscope's own words, as the text log says them). */
  status: JsonlStatus;
  /** Bytes the codec could not frame (codec-error) or decode (unparsed). */
  error: JsonlCodecError | JsonlUnparsed;
  /** Every object, whatever its type. */
  event: JsonlObject;
}

export interface PgscopeProxy {
  /** The address and port pgscope listens on: point your client there. */
  readonly address: string;
  readonly port: number;
  /** With `ui: true`: the inspector's address, with its token, to open in a browser; else null. */
  readonly inspectorUrl: string | null;
  on<K extends keyof ProxyEventMap>(event: K, listener: (o: ProxyEventMap[K]) => void): this;
  off<K extends keyof ProxyEventMap>(event: K, listener: (o: ProxyEventMap[K]) => void): this;
  once<K extends keyof ProxyEventMap>(event: K, listener: (o: ProxyEventMap[K]) => void): this;
  /**
   * Add a fault rule (the --fault syntax: `error 40001 when sql ~ "^update" once`); it acts
   * on connections already open too. Returns its id. Throws a TypeError for a rule that is
   * not one (the message says where and what was expected).
   */
  addFault(rule: string): number;
  /** Remove a rule; false if there is none with this id. */
  removeFault(id: number): boolean;
  /** Switch a rule off or on, keeping its counts; false if there is none with this id. */
  setFaultEnabled(id: number, enabled: boolean): boolean;
  /** The rules, in the order they are tried, with how often each matched and acted. */
  faults(): FaultInfo[];
  /** Remove every rule. */
  clearFaults(): void;
  /** Stop listening, end every connection, flush and close the outputs. */
  close(): Promise<void>;
}

/** Which listener name each JSON-lines type goes to (besides 'event'). */
const CHANNEL: Record<JsonlObject['type'], keyof ProxyEventMap | null> = {
  message: 'message',
  statement: 'statement',
  connection: 'connection',
  security: 'security',
  status: 'status',
  'codec-error': 'error',
  unparsed: 'error',
  dropped: null,
};

class Proxy extends EventEmitter implements PgscopeProxy {
  constructor(
    readonly address: string,
    readonly port: number,
    readonly inspectorUrl: string | null,
    private readonly rules: FaultSet,
    private readonly stop: () => Promise<void>,
  ) {
    super();
  }

  addFault(rule: string): number {
    try {
      return this.rules.add(rule);
    } catch (e) {
      throw e instanceof FaultRuleError ? new TypeError(`addFault: ${e.message}`) : e;
    }
  }

  removeFault(id: number): boolean {
    return this.rules.remove(id);
  }

  setFaultEnabled(id: number, enabled: boolean): boolean {
    return this.rules.setEnabled(id, enabled);
  }

  faults(): FaultInfo[] {
    return this.rules.list();
  }

  clearFaults(): void {
    this.rules.clear();
  }

  close(): Promise<void> {
    return this.stop();
  }
}

/** Start a proxy; rejects with a clear message for a bad option or a port that is taken. */
export async function startProxy(options: ProxyOptions = {}): Promise<PgscopeProxy> {
  const { hook, ...flags } = options;
  let config: Config;
  try {
    const given = new Set(Object.keys(flags) as (keyof Config)[]);
    config = validateConfig({ ...DEFAULTS, clientListenPort: 0, summary: false, ...flags, demo: false, colour: false }, given);
  } catch (e) {
    if (e instanceof ConfigError) throw new TypeError(`startProxy: ${e.message}`);
    throw e;
  }
  const filter = config.filter === null ? null : parseFilter(config.filter);
  let proxy: Proxy | null = null;
  const objects = jsonlObjectSink(
    (o) => {
      if (!proxy) return;
      // (EventEmitter throws on an 'error' nobody listens to: only what is listened to is emitted.)
      const channel = CHANNEL[o.type];
      if (channel && proxy.listenerCount(channel) > 0) proxy.emit(channel, o);
      if (proxy.listenerCount('event') > 0) proxy.emit('event', o);
    },
    { redact: config.redactPasswords, maxRawBytes: Math.max(config.maxValueBytes, 1024) },
  );
  const listeners = filter ? filterSink(objects, filter) : objects;
  const tap = (ev: ProxyEvent): void => {
    // Nobody listens (yet): nothing is turned into objects.
    if (proxy && proxy.eventNames().length > 0) listeners.write(ev);
  };
  // Always there, empty or not: rules added later act on connections already open.
  const rules = new FaultSet(config.fault);
  const running = await launch(config, {
    hook: hook ?? null,
    faults: rules,
    tap,
    // Listeners get statements and typed values whatever the outputs need.
    statements: { redact: config.redactPasswords, typed: true, records: true },
    // No text log unless asked for (a file).
    ...(config.logfile === null ? { write: () => {} } : {}),
  }).catch((e: unknown) => {
    throw e instanceof TlsSetupError || e instanceof OutputSetupError ? new TypeError(`startProxy: ${e.message}`) : e;
  });
  proxy = new Proxy(running.address, running.port, running.inspectorUrl, rules, async () => {
    await running.stop();
    await running.done;
  });
  return proxy;
}
