import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { cssVar, theme } from '../lib/theme';
import { useStore } from '../lib/store';

const palette = { light: ['#2563eb', '#d97706', '#059669', '#db2777'], dark: ['#60a5fa', '#fbbf24', '#34d399', '#f472b6'] };

/**
 * Chart draws time series with uPlot. data is [xs (unix seconds), ys...];
 * series names the y columns. Colours follow the light or dark theme.
 */
export function Chart({ title, data, series, unit, height = 200, testid }: {
  title: string; data: number[][]; series: string[]; unit?: string; height?: number; testid?: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const t = useStore(theme);

  // Rebuild on theme or series change; data changes only call setData.
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const axis = cssVar('--chart-axis'), grid = cssVar('--chart-grid');
    const colours = palette[t];
    const opts: uPlot.Options = {
      width: Math.max(200, node.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 60,
          values: (_u, vals) => vals.map((v) => `${+v.toFixed(2)}${unit ?? ''}`) },
      ],
      series: [{}, ...series.map((s, i) => ({ label: s, stroke: colours[i % colours.length], width: 1.5, points: { show: false } }))],
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, node);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, node.clientWidth), height }));
    ro.observe(node);
    return () => { ro.disconnect(); u.destroy(); plot.current = null; };
  }, [t, series.join(','), unit, height]);

  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData); }, [data]);

  const empty = !data[0] || data[0].length === 0;
  return (
    <div class="panel chart" data-testid={testid}>
      <div class="chart-title">{title}{empty && <span class="muted"> — no measurements in this range yet</span>}</div>
      <div ref={el} />
    </div>
  );
}
