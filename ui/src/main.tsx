import { render } from 'preact';
import { Inspector } from '../../src/inspector/inspector.js';
import { localSource } from '../../src/inspector/local-source.js';
import type { ReportData } from '../../src/inspector/types.js';
import { App } from './app.js';
import { httpSource } from './http-source.js';

/**
 * One bundle, two ways in: a report carries its data (#pgscope-data) and answers its own
 * questions with the same Inspector pgscope runs; the live page asks pgscope over HTTP.
 */
function start(): void {
  const root = document.getElementById('app')!;
  const data = document.getElementById('pgscope-data');
  if (data) {
    const report = JSON.parse(data.textContent ?? '{}') as ReportData;
    const ins = new Inspector({ mode: 'report', title: report.title, redacted: report.redacted, limits: report.limits });
    for (const o of report.objects) ins.ingest(o);
    render(<App source={localSource(ins)} live={null} note={`report written ${report.generated}`} />, root);
    return;
  }
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const live = httpSource(token);
  render(<App source={live} live={live} note={null} />, root);
}

start();
