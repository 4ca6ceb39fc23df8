import { describeCertificate, signatureHashForChannelBinding } from './describe-cert.js';
import { readFileSync } from 'node:fs';
for (const f of ['rsa1','ec384','ed','pss','md5','gen-rsa','gen-ecdsa-db']) {
  const pem = readFileSync(`/tmp/tlsx/${f}.crt`);
  console.log(f, describeCertificate(pem));
  try { console.log(signatureHashForChannelBinding(pem)); } catch (e) { console.log('ERR', (e as Error).message); }
}
