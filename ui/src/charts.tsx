import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { InspectorSource, Series } from '../../src/inspector/types.js';
import { fmtCount, fmtMs } from './format.js';
import { useRemote, useWidth } from './hooks.js';

const HEIGHT = 220;
/** Seconds filled in with zeros between those that saw statements, at most. */
const MAX_FILLED = 6 * 3600;

/**
 * A uPlot chart in a div: made once (and again when its options change), fed new data with
 * setData, sized to its box. uPlot styles its elements through the DOM (element.style),
 * which the page's Content-Security-Policy allows; it never writes style attributes.
 */
function Plot(props: { opts: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData; testid: string; optsKey: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const width = useWidth(box);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot({ ...props.opts, width: Math.max(300, el.clientWidth), height: HEIGHT }, props.data, el);
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = null;
    };
  }, [props.optsKey]);
  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);
  useEffect(() => {
    if (width > 0) plot.current?.setSize({ width: Math.max(300, width), height: HEIGHT });
  }, [width]);
  return <div class="plot" ref={box} data-testid={props.testid} />;
}

const axisStyle = { stroke: '#57606a', grid: { stroke: '#eaeef2', width: 1 }, ticks: { stroke: '#d0d7de', width: 1 } };

/** At least a minute on the time axis, so that a few seconds do not stretch across years (read from the data: options are made once). */
function timeRange(u: uPlot): uPlot.Range.MinMax {
  const xs = u.data[0];
  const a = xs[0] ?? 0;
  const b = xs[xs.length - 1] ?? a;
  const pad = Math.max(1, (60 - (b - a)) / 2);
  return [a - pad, b + pad];
}

function histogramLabel(h: Series['histogram'], i: number): string {
  const b = h[i];
  if (!b) return '';
  if (b.le === null) return `> ${fmtMs(h[i - 1]?.le ?? 0)}`;
  return `≤ ${fmtMs(b.le)}`;
}

export function Charts(props: { source: InspectorSource; version: number; conn: number | undefined }) {
  const series = useRemote(() => props.source.series(props.conn), String(props.conn), props.version);
  const s = series.data;
  if (series.error && !s) return <div class="charts err">{series.error}</div>;
  if (!s) return <div class="charts muted">loading…</div>;
  if (s.seconds.length === 0) return <div class="charts empty">No statement has completed{props.conn === undefined ? '' : ` on #${props.conn}`} yet: the charts draw statements.</div>;
  // Seconds without statements are zero statements (and no latency): filled in, when not too many.
  const first = s.seconds[0]!.t / 1_000_000;
  const lastSec = s.seconds[s.seconds.length - 1]!.t / 1_000_000;
  const dense = lastSec - first < MAX_FILLED;
  const t: number[] = [];
  const count: number[] = [];
  const errs: number[] = [];
  const p50: (number | null)[] = [];
  const p95: (number | null)[] = [];
  const max: (number | null)[] = [];
  let prev: number | null = null;
  for (const x of s.seconds) {
    const sec = x.t / 1_000_000;
    if (dense && prev !== null) {
      for (let g = prev + 1; g < sec; g++) {
        t.push(g);
        count.push(0);
        errs.push(0);
        p50.push(null);
        p95.push(null);
        max.push(null);
      }
    }
    t.push(sec);
    count.push(x.count);
    errs.push(x.errors);
    p50.push(x.p50);
    p95.push(x.p95);
    max.push(x.max);
    prev = sec;
  }
  const rate: uPlot.AlignedData = [t, count, errs];
  const latency: uPlot.AlignedData = [t, p50, p95, max];
  const points = { show: true, size: 5 };
  // The histogram's buckets, up to the last that holds anything (the far ones are mostly empty).
  let last = s.histogram.length - 1;
  while (last > 0 && s.histogram[last]!.count === 0) last--;
  const h = s.histogram.slice(0, Math.max(last + 1, 4));
  const hist: uPlot.AlignedData = [h.map((_, i) => i), h.map((b) => b.count)];
  const total = s.seconds.reduce((n, x) => n + x.count, 0);
  const errors = s.seconds.reduce((n, x) => n + x.errors, 0);
  return (
    <div class="charts">
      <p class="muted">
        {fmtCount(total)} statements{errors > 0 ? `, ${fmtCount(errors)} failed` : ''}, over {fmtCount(s.seconds.length)} seconds that saw any{props.conn === undefined ? '' : ` on #${props.conn}`} (times: your browser’s time zone).
      </p>
      <h3>Statements per second</h3>
      <Plot
        testid="chart-rate"
        optsKey="rate"
        data={rate}
        opts={{
          series: [{}, { label: 'statements', stroke: '#0969da', width: 2, fill: 'rgba(9,105,218,0.08)', points }, { label: 'errors', stroke: '#cf222e', width: 2, points }],
          axes: [axisStyle, { ...axisStyle, label: 'per second' }],
          scales: { x: { time: true, range: timeRange }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
        }}
      />
      <h3>Latency over time</h3>
      <Plot
        testid="chart-latency"
        optsKey="latency"
        data={latency}
        opts={{
          series: [
            {},
            { label: 'p50', stroke: '#0969da', width: 2, value: (_u, v) => fmtMs(v), points },
            { label: 'p95', stroke: '#bf8700', width: 2, value: (_u, v) => fmtMs(v), points },
            { label: 'max', stroke: '#8c959f', width: 1, dash: [4, 3], value: (_u, v) => fmtMs(v), points },
          ],
          axes: [axisStyle, { ...axisStyle, label: 'ms', size: 60 }],
          scales: { x: { time: true, range: timeRange }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
        }}
      />
      <h3>Latency histogram</h3>
      <Plot
        testid="chart-histogram"
        optsKey={`hist-${h.length}`}
        data={hist}
        opts={{
          scales: { x: { time: false, range: [-0.5, h.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
          series: [
            { label: 'duration', value: (_u, v) => (v === null ? '' : histogramLabel(h, v)) },
            { label: 'statements', stroke: '#0969da', fill: 'rgba(9,105,218,0.35)', width: 1, paths: uPlot.paths.bars!({ size: [0.8, 60] }), points: { show: false } },
          ],
          axes: [
            { ...axisStyle, splits: () => h.map((_, i) => i), values: (_u, splits) => splits.map((v) => histogramLabel(h, v)), size: 50, grid: { show: false } },
            { ...axisStyle, label: 'statements' },
          ],
        }}
      />
    </div>
  );
}
