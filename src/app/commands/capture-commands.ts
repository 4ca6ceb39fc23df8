/**
 * `pgscope view CAPTURE` (the inspector over a saved capture, served on loopback) and
 * `pgscope report CAPTURE -o FILE.html` (one self-contained page that opens offline). Both
 * read any capture src/capture understands: the pcapng of --pcap, JSON lines of --jsonl.
 */
import { basename } from 'node:path';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { CaptureError } from '../../capture/capture-error.js';
import { forEachCaptureObject } from '../../capture/read-capture.js';
import type { JsonlObject } from '../../output/jsonl/objects.js';
import { openKeyLogs } from './read-command.js';
import { DEFAULT_LIMITS, Inspector } from '../../inspector/inspector.js';
import type { ReportData } from '../../inspector/types.js';
import { newNonce, pageHtml, UiMissingError } from '../../web/page.js';
import { startInspectorServer } from '../../web/server.js';
import { packageVersion } from '../version.js';

export interface CaptureCommandOptions {
  redact: boolean;
  maxValueBytes: number;
  /** --keylog files: TLS in the capture is decrypted with them. */
  keylogs?: string[];
  /** --port: server ports (default 5432). */
  ports?: number[];
}

export interface ViewOptions extends CaptureCommandOptions {
  host: string;
  port: number;
  /** Messages kept per connection. */
  keep: number;
}

type Say = (s: string) => void;

/**
 * Read the capture, handing each object on (none is kept here: `view` keeps what the
 * inspector's bounded rings keep, so a capture of any size opens); false after saying why
 * it cannot be read.
 */
async function load(file: string, opts: CaptureCommandOptions, err: Say, onObject: (o: JsonlObject, line: string) => void): Promise<boolean> {
  const keys = openKeyLogs(opts.keylogs ?? [], err);
  if (keys === 'failed') return false;
  try {
    const c = await forEachCaptureObject(file, { redact: opts.redact, maxValueBytes: opts.maxValueBytes, keys, ...(opts.ports ? { serverPorts: opts.ports } : {}) }, onObject);
    for (const n of c.notes) err(`pgscope: ${file}: ${n}\n`);
    return true;
  } catch (e) {
    if (e instanceof CaptureError) {
      err(`pgscope: ${e.message}\n`);
      return false;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ELOOP') {
      err(`pgscope: cannot read ${file}: ${(e as Error).message}\n`);
      return false;
    }
    throw e;
  }
}

/** Serve the inspector over a capture until SIGINT/SIGTERM; resolves to the exit status. */
export async function viewCommand(file: string, opts: ViewOptions, out: Say, err: Say, until?: Promise<void>): Promise<number> {
  const inspector = new Inspector({
    mode: 'capture',
    title: basename(file),
    redacted: opts.redact,
    limits: { messagesPerConnection: opts.keep, messages: Math.max(opts.keep, DEFAULT_LIMITS.messages) },
  });
  // Messages kept as their JSON lines: one string each, weighed against the inspector's byte bound.
  if (!(await load(file, opts, err, (o, line) => inspector.ingest(o, o.type === 'message' ? line : undefined)))) return 1;
  let server;
  try {
    server = await startInspectorServer({ host: opts.host, port: opts.port, inspector, faults: null, title: basename(file) });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is taken' : (e as Error).message;
    err(`pgscope: cannot serve the inspector on port ${opts.port}: ${why}\n`);
    return 1;
  }
  const o = inspector.overview();
  out(`${file}: ${o.counts.messages} messages, ${o.counts.statements} statements on ${o.counts.connections} connections\n`);
  out(`inspector: open ${server.url}\n`);
  await (until ??
    new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    }));
  await server.close();
  return 0;
}

/** Write the self-contained report; resolves to the exit status. */
export async function reportCommand(file: string, output: string, opts: CaptureCommandOptions, out: Say, err: Say): Promise<number> {
  // A report holds every object (the page answers its own questions from them).
  const objects: JsonlObject[] = [];
  if (!(await load(file, opts, err, (o) => objects.push(o)))) return 1;
  const data: ReportData = {
    title: basename(file),
    redacted: opts.redact,
    generated: `${new Date().toISOString()} by pgscope ${packageVersion()}`,
    limits: DEFAULT_LIMITS,
    objects,
  };
  let page: string;
  try {
    page = pageHtml({ title: data.title, nonce: newNonce(), report: data });
  } catch (e) {
    if (e instanceof UiMissingError) {
      err(`pgscope: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  // Owner-only, and never through a symbolic link (the page holds decrypted traffic).
  let fd: number;
  try {
    fd = openSync(output, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    err(`pgscope: cannot write ${output}: ${code === 'ELOOP' ? 'it is a symbolic link' : (e as Error).message}\n`);
    return 1;
  }
  try {
    const bytes = Buffer.from(page, 'utf8');
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
  } finally {
    closeSync(fd);
  }
  const messages = objects.filter((o) => o.type === 'message').length;
  out(`wrote ${output} (${(Buffer.byteLength(page) / 1024).toFixed(0)} KiB: ${messages} messages); it opens offline in any browser\n`);
  return 0;
}
