/**
 * The calibration row of the benchmark suite: the simplest PostgreSQL TLS proxy Node.js
 * can run, in its own process (as pgscope is). It answers the client's SSLRequest with
 * 'S' and terminates its TLS, opens TLS to the server the same way libpq does (SSLRequest,
 * 'S', handshake), then copies chunks both ways with socket.write as they arrive: no
 * parsing, no logging. Whatever pgscope costs beyond this row is pgscope's own work.
 *
 *   node --import tsx bench/tls-pipe.ts SERVER_PORT CERT_FILE KEY_FILE
 *
 * Prints `listening on 127.0.0.1:PORT` once it accepts connections.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const [serverPortArg, certFile, keyFile] = process.argv.slice(2);
if (!serverPortArg || !certFile || !keyFile) {
  process.stderr.write('usage: tls-pipe.ts SERVER_PORT CERT_FILE KEY_FILE\n');
  process.exit(2);
}
const serverPort = Number(serverPortArg);
const secureContext = tls.createSecureContext({ cert: readFileSync(certFile), key: readFileSync(keyFile) });

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** Copy a → b chunk by chunk; pause a while b's buffer is full. */
function pipeChunks(a: net.Socket, b: net.Socket): void {
  a.on('data', (d: Buffer) => {
    if (!b.write(d)) {
      a.pause();
      b.once('drain', () => a.resume());
    }
  });
  a.on('end', () => b.end());
}

/** TLS to the server, libpq style: SSLRequest, expect 'S', handshake. */
function connectServer(): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(serverPort, '127.0.0.1');
    raw.setNoDelay(true);
    raw.once('error', reject);
    raw.once('connect', () => raw.write(sslRequest));
    raw.once('data', (b: Buffer) => {
      if (b[0] !== 0x53) {
        reject(new Error(`the server answered ${JSON.stringify(String.fromCharCode(b[0] ?? 0))} to SSLRequest`));
        raw.destroy();
        return;
      }
      const t = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
      t.once('secureConnect', () => {
        raw.off('error', reject);
        resolve(t);
      });
      t.once('error', reject);
    });
  });
}

function handle(client: net.Socket): void {
  client.setNoDelay(true);
  client.on('error', () => client.destroy());
  let head = Buffer.alloc(0);
  const onHead = (d: Buffer): void => {
    head = Buffer.concat([head, d]);
    if (head.length < 8) return;
    const code = head.readInt32BE(4);
    if (code === GSSENC_REQUEST) {
      head = head.subarray(8);
      client.write('N');
      return;
    }
    client.off('data', onHead);
    if (code !== SSL_REQUEST || head.length !== 8) {
      client.destroy(); // this pipe only speaks TLS to clients
      return;
    }
    const serverLeg = connectServer();
    serverLeg.catch(() => client.destroy());
    client.write('S');
    const tc = new tls.TLSSocket(client, { isServer: true, secureContext });
    tc.on('error', () => tc.destroy());
    tc.once('secure', () => {
      serverLeg.then(
        (ts) => {
          ts.on('error', () => {
            ts.destroy();
            tc.destroy();
          });
          tc.on('close', () => ts.destroy());
          ts.on('close', () => tc.destroy());
          pipeChunks(tc, ts);
          pipeChunks(ts, tc);
        },
        () => tc.destroy(),
      );
    });
  };
  client.on('data', onHead);
}

const srv = net.createServer(handle);
srv.listen(0, '127.0.0.1', () => {
  const a = srv.address() as net.AddressInfo;
  process.stdout.write(`listening on 127.0.0.1:${a.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
