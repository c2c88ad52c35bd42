import type { PathMetrics } from '../api/types';

// Time ranges and series preparation for the charts.

export type RangeKey = '15m' | '1h' | '24h' | '7d';

export const ranges: Record<RangeKey, { label: string; seconds: number; step: number }> = {
  '15m': { label: '15 min', seconds: 900, step: 10 },
  '1h': { label: '1 hour', seconds: 3600, step: 30 },
  '24h': { label: '24 hours', seconds: 86400, step: 300 },
  '7d': { label: '7 days', seconds: 604800, step: 1800 },
};

/** window returns [from, to] for a range ending at now. */
export function window(key: RangeKey, now = Date.now()): { from: Date; to: Date } {
  return { from: new Date(now - ranges[key].seconds * 1000), to: new Date(now) };
}

/**
 * bucket averages points (x in seconds, ascending) into at most maxPoints
 * buckets of equal width, so a week of per-second probes draws quickly; a
 * bucket with no points is left out. Columns are [x, y1, y2, ...].
 */
export function bucket(xs: number[], ys: number[][], maxPoints: number): [number[], ...number[][]] {
  if (xs.length <= maxPoints || xs.length === 0) return [xs, ...ys];
  const start = xs[0], end = xs[xs.length - 1];
  const width = (end - start) / maxPoints || 1;
  const ox: number[] = [];
  const oy: number[][] = ys.map(() => []);
  let i = 0;
  for (let b = 0; b < maxPoints && i < xs.length; b++) {
    const hi = b === maxPoints - 1 ? Infinity : start + (b + 1) * width;
    let n = 0, sx = 0;
    const sums = ys.map(() => 0);
    while (i < xs.length && xs[i] < hi) {
      n++; sx += xs[i];
      ys.forEach((col, c) => { sums[c] += col[i]; });
      i++;
    }
    if (n > 0) {
      ox.push(sx / n);
      sums.forEach((s, c) => oy[c].push(s / n));
    }
  }
  return [ox, ...oy];
}

/**
 * appendLive adds a live point to a chart's columns and drops points older
 * than the range, so a chart left open keeps showing the chosen window.
 */
export function appendLive(cols: number[][], x: number, ys: number[], rangeSeconds: number): number[][] {
  const cut = x - rangeSeconds;
  const keep = cols[0].findIndex((t) => t >= cut);
  const from = keep < 0 ? cols[0].length : keep;
  const last = cols[0][cols[0].length - 1];
  if (last !== undefined && x <= last) return cols;
  return cols.map((c, i) => [...c.slice(from), i === 0 ? x : ys[i - 1]]);
}

/** toColumns turns measurements into chart columns: x, latency, jitter, loss, score. */
export function toColumns(ms: PathMetrics[], maxPoints = 800): number[][] {
  const xs = ms.map((m) => Date.parse(m.measured_at) / 1000);
  return bucket(xs, [ms.map((m) => m.latency_ms), ms.map((m) => m.jitter_ms), ms.map((m) => m.packet_loss_pct), ms.map((m) => m.score)], maxPoints);
}

