/**
 * Which Host headers the inspector answers (src/web/guard.ts): the address it listens on at
 * its port, `localhost` for loopback, any IP literal when listening on every address; never a
 * name an attacker controls (DNS rebinding).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostAllowed } from '../../../src/web/guard.js';

describe('hostAllowed', () => {
  it('loopback: its own address and localhost at its port', () => {
    for (const h of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST:8080']) assert.equal(hostAllowed(h, '127.0.0.1', 8080), true, h);
    for (const h of ['127.0.0.1:8081', '127.0.0.1', 'evil.example:8080', '127.0.0.1.nip.io:8080', '[::1]:8080', '10.0.0.1:8080', '', ' ', 'localhost:8080:1', 'user@127.0.0.1:8080']) {
      assert.equal(hostAllowed(h, '127.0.0.1', 8080), false, h);
    }
    assert.equal(hostAllowed(undefined, '127.0.0.1', 8080), false);
  });

  it('IPv6 loopback in brackets', () => {
    assert.equal(hostAllowed('[::1]:9000', '::1', 9000), true);
    assert.equal(hostAllowed('localhost:9000', '::1', 9000), true);
    assert.equal(hostAllowed('::1:9000', '::1', 9000), false);
    assert.equal(hostAllowed('127.0.0.1:9000', '::1', 9000), false);
  });

  it('every address: IP literals and localhost, no names', () => {
    for (const h of ['192.168.1.20:80', '[fe80::1]:80', 'localhost:80', '10.0.0.1']) assert.equal(hostAllowed(h, '0.0.0.0', 80), true, h);
    for (const h of ['attacker.example:80', 'rebind.127.0.0.1.nip.io:80']) assert.equal(hostAllowed(h, '0.0.0.0', 80), false, h);
    assert.equal(hostAllowed('[fe80::1]:80', '::', 80), true);
  });

  it('a specific address: only it', () => {
    assert.equal(hostAllowed('192.168.1.20:7000', '192.168.1.20', 7000), true);
    assert.equal(hostAllowed('localhost:7000', '192.168.1.20', 7000), false);
    assert.equal(hostAllowed('192.168.1.21:7000', '192.168.1.20', 7000), false);
  });
});
