import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendDecoders } from '../../../src/protocol/backend/index.js';
import { copyData } from '../../../src/protocol/copy-data.js';
import { decoderFor } from '../../../src/protocol/registry.js';
import { msg } from '../../helpers/wire.js';
import { golden, malformed } from './helpers.js';

/** Every message the documentation marks (B) or (F & B), by type byte. */
const BACKEND: Record<string, string> = {
  R: 'Authentication',
  K: 'BackendKeyData',
  '2': 'BindComplete',
  '3': 'CloseComplete',
  C: 'CommandComplete',
  d: 'CopyData',
  c: 'CopyDone',
  G: 'CopyInResponse',
  H: 'CopyOutResponse',
  W: 'CopyBothResponse',
  D: 'DataRow',
  I: 'EmptyQueryResponse',
  E: 'ErrorResponse',
  V: 'FunctionCallResponse',
  v: 'NegotiateProtocolVersion',
  n: 'NoData',
  N: 'NoticeResponse',
  A: 'NotificationResponse',
  t: 'ParameterDescription',
  S: 'ParameterStatus',
  '1': 'ParseComplete',
  s: 'PortalSuspended',
  Z: 'ReadyForQuery',
  T: 'RowDescription',
};

describe('backend decoder registry', () => {
  it('has a decoder for every server message type byte, and nothing else', () => {
    assert.deepEqual(Object.keys(backendDecoders).sort(), Object.keys(BACKEND).sort());
    for (const [type, name] of Object.entries(BACKEND)) {
      assert.equal(decoderFor('backend', type)?.name, name, type);
    }
  });

  it('registers the shared CopyData decoder as is', () => {
    assert.equal(backendDecoders['d'], copyData);
    golden(msg('d', 'a\tb\n'), '"d" = CopyData "\\x00\\x00\\x00\\x08" = 8 bytes "a\\tb\\n" = COPY data');
  });

  it('ReadyForQuery', () => {
    golden(msg('Z', 'T'), '"Z" = ReadyForQuery "\\x00\\x00\\x00\\x05" = 5 bytes "T" = in a transaction block');
    malformed(msg('Z', 'X'), 'bad-value', { at: 5, unparsed: false, name: 'ReadyForQuery' });
    malformed(msg('Z'), 'past-end', { at: 5, unparsed: false });
    malformed(msg('Z', 'IE'), 'trailing-bytes', { at: 6, unparsed: true });
  });

  it('a type byte no server message uses is an unknown-type error', () => {
    malformed(msg('Q', 'x'), 'unknown-type', { at: 0, unparsed: true });
  });
});
