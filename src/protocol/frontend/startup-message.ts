import type { MessageDecoder } from '../decoder.js';

/**
 * StartupMessage (F): Int32 length (read by decodeFrame), Int32 protocol version (major in
 * the high 16 bits: 196608 = 3.0, 196610 = 3.2), then name/value String pairs ended by a
 * zero byte. Names starting with `_pq_.` are protocol extensions; `replication` asks for
 * a walsender.
 */
export const startupMessage: MessageDecoder = {
  name: 'StartupMessage',
  decode(r) {
    r.int32('protocol version', (v) => `protocol ${v >>> 16}.${v & 0xffff}`);
    const params: Record<string, string> = {};
    r.group('parameters', () => {
      for (;;) {
        if (r.peekByte() === 0) {
          r.uint8('terminator', 'end of parameters');
          break;
        }
        r.group('parameter', () => {
          const name = r.cstring('name', (n) => (n.startsWith('_pq_.') ? `protocol option name` : 'parameter name'));
          const value = r.cstring('value', () => (name === 'replication' ? 'parameter value (walsender mode)' : `${name} value`));
          params[name] = value;
        });
        if (r.peekByte() === undefined) r.fail('past-end', 'a zero byte ending the parameter list');
      }
      return params;
    });
  },
};
