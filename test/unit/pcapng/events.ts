/** ProxyEvent builders for the pcapng tests. */
import type { CodecEvent, Direction } from '../../../src/protocol/types.js';
import type { Endpoint, ProxyEvent } from '../../../src/session/events.js';

export const opened = (conn: number, time: number, client: Endpoint, local: Endpoint = { address: '127.0.0.1', port: 6432 }): ProxyEvent => ({
  kind: 'connection',
  conn,
  time,
  phase: 'opened',
  client,
  local,
});

export const serverConnected = (conn: number, time: number, remote: Endpoint): ProxyEvent => ({
  kind: 'connection',
  conn,
  time,
  phase: 'server-connected',
  host: remote.address,
  port: remote.port,
  why: 'test',
  remote,
  local: { address: '127.0.0.1', port: 50000 + conn },
});

export const closed = (conn: number, time: number, reason = 'the client closed the connection'): ProxyEvent => ({
  kind: 'connection',
  conn,
  time,
  phase: 'closed',
  reason,
  bytesFromClient: 0,
  bytesFromServer: 0,
});

export const wire = (conn: number, time: number, direction: Direction, offset: number, bytes: Buffer): ProxyEvent => ({
  kind: 'wire',
  conn,
  time,
  label: direction === 'frontend' ? 'client -> server' : 'server -> client',
  direction,
  offset,
  bytes,
});
