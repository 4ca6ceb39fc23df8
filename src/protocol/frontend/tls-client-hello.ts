import type { MessageDecoder } from '../decoder.js';

/** A TLS record where a startup packet was expected: direct TLS (PostgreSQL 17+). */
export const tlsRecordDecoder: MessageDecoder = {
  name: 'TLS record',
  decode(r) {
    r.uint8('content type', (t) => (t === 22 ? 'handshake' : `content type ${t}`));
    r.uint16('version', (v) => `record version 0x${v.toString(16)}`);
    r.uint16('length', (n) => `${n} bytes`);
    r.rest('fragment', 'TLS handshake data');
    return ['direct TLS'];
  },
};
