import { render } from 'preact';
import { Inspector } from '../../src/inspector/inspector.js';
import { localSource } from '../../src/inspector/local-source.js';
import type { ReportData } from '../../src/inspector/types.js';
import { App } from './app.js';
import { errorText, fmtCount } from './format.js';
import { httpSource } from './http-source.js';

/** Objects a report takes in between two frames while it loads (the page says how far it got). */
const SLICE = 5000;

function Loading(props: { text: string }) {
  return (
    <div class="loading" data-testid="loading">
      {props.text}
    </div>
  );
}

/**
 * A report carries its data (#pgscope-data, JSON lines' objects) and answers its own
 * questions with the very Inspector pgscope runs; nothing is fetched, ever.
 */
async function startReport(root: HTMLElement, el: HTMLElement): Promise<void> {
  render(<Loading text="reading the report…" />, root);
  await new Promise((r) => setTimeout(r, 0));
  const report = JSON.parse(el.textContent ?? '{}') as ReportData;
  const objects = report.objects ?? [];
  const ins = new Inspector({ mode: 'report', title: report.title, redacted: report.redacted, limits: report.limits });
  for (let i = 0; i < objects.length; i += SLICE) {
    render(<Loading text={`taking in ${fmtCount(i)} of ${fmtCount(objects.length)} objects…`} />, root);
    await new Promise((r) => setTimeout(r, 0));
    const end = Math.min(objects.length, i + SLICE);
    for (let j = i; j < end; j++) ins.ingest(objects[j]!);
  }
  render(<App source={localSource(ins)} live={null} note={`report written ${report.generated}`} />, root);
}

/** The live page (pgscope --ui) and a capture's (pgscope view): pgscope answers over HTTP. */
function startLive(root: HTMLElement): void {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const live = httpSource(token);
  render(<App source={live} live={live} note={null} />, root);
}

function start(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const data = document.getElementById('pgscope-data');
  if (data) {
    startReport(root, data).catch((e: unknown) => render(<Loading text={`this report cannot be read: ${errorText(e)}`} />, root));
  } else startLive(root);
}

start();
