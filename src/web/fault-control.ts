import type { FaultSet } from '../faults/fault-set.js';
import type { FaultRow } from '../inspector/types.js';

/**
 * The proxy's fault rules as the inspector's API lists and switches them. Asynchronous:
 * the rules live on the forwarding thread (they decide there, per message), and the
 * inspector may run on the decode thread (see app/decode-thread.ts), which asks over a
 * message. `add` rejects with a FaultRuleError for a rule that does not parse.
 */
export interface FaultControl {
  rows(): Promise<FaultRow[]>;
  add(rule: string): Promise<number>;
  clear(): Promise<void>;
  remove(id: number): Promise<boolean>;
  setEnabled(id: number, enabled: boolean): Promise<boolean>;
}

/** The operations of FaultControl by name, as they cross between threads. */
export type FaultOp = { op: 'rows' } | { op: 'add'; rule: string } | { op: 'clear' } | { op: 'remove'; id: number } | { op: 'setEnabled'; id: number; enabled: boolean };

/** One operation on the rules themselves (on the thread that holds them). Throws as FaultSet does. */
export function applyFaultOp(faults: FaultSet, o: FaultOp): unknown {
  switch (o.op) {
    case 'rows':
      return faults.list().map((f) => ({ id: f.id, rule: f.canonical, enabled: f.enabled, matched: f.matches, acted: f.hits }));
    case 'add':
      return faults.add(o.rule);
    case 'clear':
      faults.clear();
      return undefined;
    case 'remove':
      return faults.remove(o.id);
    case 'setEnabled':
      return faults.setEnabled(o.id, o.enabled);
  }
}

/** FaultControl over `call`, which carries out one operation (here, or on another thread). */
export function faultControl(call: (o: FaultOp) => Promise<unknown>): FaultControl {
  return {
    rows: () => call({ op: 'rows' }) as Promise<FaultRow[]>,
    add: (rule) => call({ op: 'add', rule }) as Promise<number>,
    clear: async () => {
      await call({ op: 'clear' });
    },
    remove: (id) => call({ op: 'remove', id }) as Promise<boolean>,
    setEnabled: (id, enabled) => call({ op: 'setEnabled', id, enabled }) as Promise<boolean>,
  };
}

/** The rules of this thread. */
export function localFaultControl(faults: FaultSet): FaultControl {
  return faultControl(async (o) => applyFaultOp(faults, o));
}
