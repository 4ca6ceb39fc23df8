import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { InspectorSource, Series } from '../../src/inspector/types.js';

/** A uPlot chart in a div, rebuilt when its data changes (a few hundred points at most per second of traffic). */
function Plot(props: { opts: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData; testid: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const plot = new uPlot({ ...props.opts, width: Math.max(300, el.clientWidth - 10), height: 220 }, props.data, el);
    return () => plot.destroy();
  }, [props.data]);
  return <div class="plot" ref={ref} data-testid={props.testid} />;
}

export function Charts(props: { source: InspectorSource; version: number; conn: number | undefined }) {
  const [series, setSeries] = useState<Series | null>(null);
  useEffect(() => {
    let gone = false;
    void props.source.series(props.conn).then((s) => !gone && setSeries(s));
    return () => {
      gone = true;
    };
  }, [props.source, props.conn, props.version]);
  if (!series) return <div class="charts">loading…</div>;
  if (series.seconds.length === 0) return <div class="charts empty">No statement completed yet.</div>;
  const t = series.seconds.map((s) => s.t / 1_000_000);
  const rate: uPlot.AlignedData = [t, series.seconds.map((s) => s.count), series.seconds.map((s) => s.errors)];
  const latency: uPlot.AlignedData = [t, series.seconds.map((s) => s.p50), series.seconds.map((s) => s.p95), series.seconds.map((s) => s.max)];
  const buckets = series.histogram;
  const hist: uPlot.AlignedData = [buckets.map((_, i) => i), buckets.map((b) => b.count)];
  const label = (i: number): string => {
    const b = buckets[i];
    return b ? (b.le === null ? `> ${buckets[i - 1]?.le ?? 0} ms` : `≤ ${b.le} ms`) : '';
  };
  return (
    <div class="charts">
      <h3>Statements per second</h3>
      <Plot
        testid="chart-rate"
        data={rate}
        opts={{
          series: [{}, { label: 'statements', stroke: '#2a6fdb', width: 2 }, { label: 'errors', stroke: '#d22', width: 2 }],
          axes: [{}, { label: 'per second' }],
        }}
      />
      <h3>Latency over time (ms)</h3>
      <Plot
        testid="chart-latency"
        data={latency}
        opts={{
          series: [{}, { label: 'p50', stroke: '#2a6fdb', width: 2 }, { label: 'p95', stroke: '#e08a00', width: 2 }, { label: 'max', stroke: '#999', width: 1 }],
          axes: [{}, { label: 'ms' }],
        }}
      />
      <h3>Latency histogram</h3>
      <Plot
        testid="chart-histogram"
        data={hist}
        opts={{
          scales: { x: { time: false } },
          series: [{ label: 'bucket', value: (_u, v) => label(v) }, { label: 'statements', stroke: '#2a6fdb', fill: 'rgba(42,111,219,0.3)', paths: uPlot.paths.bars!({ size: [0.8] }) }],
          axes: [{ values: (_u, ticks) => ticks.map((v) => label(v)), rotate: -30 } as uPlot.Axis, { label: 'statements' }],
        }}
      />
    </div>
  );
}
