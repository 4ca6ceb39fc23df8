import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from './format.js';

export interface Remote<T> {
  /** The latest answer (kept while a newer question is on its way, so nothing flickers). */
  data: T | undefined;
  error: string | null;
  /** The key the data was asked for (data of an older key may still show). */
  key: string | undefined;
}

/**
 * Ask `fn` whenever `key` or `version` changes, one question at a time: a change while a
 * question is on its way asks again once, when it is answered (updates arrive up to four
 * times a second; a slow answer must not pile requests up).
 */
export function useRemote<T>(fn: () => Promise<T>, key: string, version: number): Remote<T> {
  const [state, setState] = useState<Remote<T>>({ data: undefined, error: null, key: undefined });
  const run = useRef({ busy: false, again: false, fn, key, alive: true });
  run.current.fn = fn;
  run.current.key = key;

  useEffect(() => {
    const r = run.current;
    r.alive = true;
    return () => {
      r.alive = false;
    };
  }, []);

  useEffect(() => {
    const r = run.current;
    if (r.busy) {
      r.again = true;
      return;
    }
    const go = (): void => {
      r.busy = true;
      r.again = false;
      const k = r.key;
      r.fn().then(
        // An answer for a key no longer asked for is dropped; one only older than the latest
        // version still shows (the next one follows).
        (data) => r.alive && r.key === k && setState({ data, error: null, key: k }),
        (e: unknown) => r.alive && r.key === k && setState((s) => ({ ...s, error: errorText(e) })),
      ).finally(() => {
        r.busy = false;
        if (r.again && r.alive) go();
      });
    };
    go();
  }, [key, version]);

  return state;
}

/** A value that follows `value` once it has stayed the same for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    if (Object.is(v, value)) return;
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** The width of an element, followed as it changes. */
export function useWidth(ref: { current: HTMLElement | null }): number {
  const [w, setW] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setW(el.clientWidth);
    const ro = new ResizeObserver(() => setW(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref.current]);
  return w;
}
