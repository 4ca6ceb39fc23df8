/**
 * The one place that loads @peculiar/x509. It needs a Reflect metadata polyfill loaded
 * before it (its dependency injection container, tsyringe, throws at import time
 * otherwise), and a WebCrypto implementation: Node's own.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's webcrypto and the DOM `Crypto` type @peculiar/x509 declares are the same thing
// in practice; the types differ only because this project compiles without lib "dom".
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
