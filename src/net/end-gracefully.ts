import type { Socket } from 'node:net';

/** How long a closing leg may take to flush before it is destroyed (again after each progress). */
const CLOSE_GRACE_MS = 2000;

/**
 * End a leg without losing what is still queued for it: after end(), the socket is
 * destroyed only once a grace period passes with nothing left to write, or with no
 * progress (a peer that stopped reading), never while a slow reader is still draining.
 */
export function endGracefully(s: Socket): void {
  s.end();
  let last = s.writableLength;
  const tick = (): void => {
    if (s.destroyed) return;
    const pending = s.writableLength;
    if (pending > 0 && pending < last) {
      last = pending;
      setTimeout(tick, CLOSE_GRACE_MS).unref();
      return;
    }
    s.destroy();
  };
  setTimeout(tick, CLOSE_GRACE_MS).unref();
}
