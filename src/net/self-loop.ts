import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * A proxy that connects to its own listening address forwards to itself forever. Refuse
 * that unless --allow-self-loop: the server host is resolved and compared with the
 * listening address (any local address when listening on 0.0.0.0 or ::).
 */
export function selfLoopChecker(listenIp: string, listenPort: number, allow: boolean): (host: string, port: number) => Promise<string | null> {
  return async (host, port) => {
    if (allow || port !== listenPort) return null;
    let addresses: string[];
    try {
      addresses = net.isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return null; // Unresolvable: the connection attempt itself will report it.
    }
    const mine = ownAddresses(listenIp);
    const hit = addresses.find((a) => mine.has(normalise(a)));
    return hit ? `refusing to connect to ${host}:${port} (${hit}), which is pgscope's own listening address: it would forward to itself (use --allow-self-loop if that is really wanted)` : null;
  };
}

function ownAddresses(listenIp: string): Set<string> {
  const unspecified = listenIp === '0.0.0.0' || listenIp === '::';
  if (!unspecified) return new Set([normalise(listenIp)]);
  const all = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) all.add(normalise(i.address));
  return all;
}

/** IPv4-mapped IPv6 addresses compare equal to their IPv4 form. */
function normalise(a: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return (m ? m[1]! : a).toLowerCase();
}
