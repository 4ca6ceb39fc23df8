import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapToIpv6, parseIp } from '../../../src/output/pcapng/address.js';
import { fmtHostPort } from '../../../src/session/host-port.js';

const hex = (address: string): string | undefined => parseIp(address)?.bytes.toString('hex');

test('parseIp: IPv4, IPv6 in every spelling, mapped IPv4 to IPv4, zones dropped, non-addresses null', () => {
  assert.equal(hex('192.168.1.20'), 'c0a80114');
  assert.equal(hex('::1'), '00000000000000000000000000000001');
  assert.equal(hex('::'), '00000000000000000000000000000000');
  assert.equal(hex('2001:db8::8a2e:370:7334'), '20010db80000000000008a2e03707334');
  assert.equal(hex('fe80::1%eth0'), 'fe800000000000000000000000000001');
  assert.equal(hex('1:2:3:4:5:6:7:8'), '00010002000300040005000600070008');
  assert.equal(hex('64:ff9b::10.0.0.1'), '0064ff9b00000000000000000a000001');
  assert.deepEqual(parseIp('::ffff:127.0.0.1'), { bytes: Buffer.from([127, 0, 0, 1]), text: '127.0.0.1' });
  assert.deepEqual(parseIp('::FFFF:7f00:2'), { bytes: Buffer.from([127, 0, 0, 2]), text: '127.0.0.2' });
  assert.equal(parseIp('localhost'), null);
  assert.equal(parseIp(''), null);
});

test('mapToIpv6 and fmtHostPort', () => {
  const m = mapToIpv6(parseIp('10.0.0.1')!);
  assert.equal(m.bytes.toString('hex'), '00000000000000000000ffff0a000001');
  assert.equal(m.text, '::ffff:10.0.0.1');
  assert.equal(fmtHostPort('10.0.0.1', 5432), '10.0.0.1:5432');
  assert.equal(fmtHostPort('::1', 6543), '[::1]:6543');
});
