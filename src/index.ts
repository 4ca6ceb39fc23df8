/**
 * pgscope as a library. See README.md ("In your test suite") and docs/jsonl.md for the
 * objects listeners receive.
 */
export { startProxy, type PgscopeProxy, type ProxyEventMap, type ProxyOptions } from './app/start-proxy.js';
export type { MessageDecision, MessageHook, MessageView } from './session/message-hook.js';
export type { FaultInfo } from './faults/fault-set.js';
export type {
  JsonlBytes,
  JsonlCodecError,
  JsonlConnection,
  JsonlDropped,
  JsonlField,
  JsonlMessage,
  JsonlObject,
  JsonlSecurity,
  JsonlStatement,
  JsonlStatus,
  JsonlUnparsed,
} from './output/jsonl/objects.js';
/** The codec: every message's codec (decode, typed fields, encode) and field type. */
export * as codec from './protocol/index.js';
