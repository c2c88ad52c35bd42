import { describe, expect, it } from 'vitest';
import type { Path, PathEvent, PathStatus } from '../api/types';
import { linkTimeline, timeline, uptime } from './availability';
import { exportName } from './exportfile';
import { ago, bitrate, bytes, count, duration, hitRatio, ms, num, pct } from './format';
import { bounds, circle, layout } from './layout';
import { bestMatrix, better, countByState, mergePath, pairKey, pairStatus, pairs, pathLabel, worse } from './paths';
import { deltas, RateMeter } from './rates';
import { match } from './router';
import { appendLive, bucket, toColumns, window } from './series';
import { dependencySummary } from './sites';
import { pushEvent } from '../api/live';

function path(id: string, src: string, dst: string, status: PathStatus, latency?: number, score?: number, loss = 0): Path {
  return {
    id, status,
    srcSite: { id: src, name: src }, dstSite: { id: dst, name: dst },
    srcEndpoint: { id: `${src}-wan1`, name: 'wan1' }, dstEndpoint: { id: `${dst}-wan1`, name: 'wan1' },
    metrics: latency === undefined ? null : { latency_ms: latency, jitter_ms: 1, packet_loss_pct: loss, score: score ?? 90, measured_at: '2026-11-27T10:00:00Z' },
  };
}

describe('format', () => {
  it.each([
    [0, '0 B'], [999, '999 B'], [1000, '1.00 KB'], [1500, '1.50 KB'], [12_345_678, '12.3 MB'], ['2000000000', '2.00 GB'],
  ])('bytes(%s) = %s', (v, want) => expect(bytes(v)).toBe(want));
  it.each([[0, '0'], [950, '950'], [1234, '1.23k'], [12_345, '12.3k'], [4_500_000, '4.50M'], [3e9, '3.00G']])('count(%s) = %s', (v, want) => expect(count(v)).toBe(want));
  it.each([[0.42, '0.42 ms'], [12.34, '12.3 ms'], [250, '250 ms'], [null, '–'], [NaN, '–']])('ms(%s) = %s', (v, want) => expect(ms(v as number)).toBe(want));
  it.each([[0, '0%'], [0.456, '0.46%'], [4.56, '4.6%'], [45.6, '46%'], [undefined, '–']])('pct(%s) = %s', (v, want) => expect(pct(v as number)).toBe(want));
  it.each([[0, '0s'], [59, '59s'], [61, '1m 1s'], [3600, '1h'], [90061, '1d 1h']])('duration(%s) = %s', (v, want) => expect(duration(v)).toBe(want));
  it.each([[125, '1.00 kbit/s'], [1.25e6, '10.0 Mbit/s'], [0, '0 bit/s']])('bitrate(%s) = %s', (v, want) => expect(bitrate(v)).toBe(want));
  it('num reads Int64 strings and rejects junk', () => {
    expect(num('9007199254740')).toBe(9007199254740);
    expect(num('x')).toBe(0);
    expect(num(null)).toBe(0);
  });
  it('ago', () => {
    expect(ago('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:05:02Z'))).toBe('5m 2s ago');
    expect(ago(null)).toBe('never');
  });
  it.each([[{ hits: 0, misses: 0 }, null], [{ hits: '3', misses: 1 }, 75], [{ hits: 0, misses: 5 }, 0]])('hitRatio(%o) = %s', (c, want) => expect(hitRatio(c)).toBe(want));
});

describe('rates', () => {
  it('turns cumulative counters into rates and survives resets', () => {
    const m = new RateMeter();
    expect(m.observe('p', 0, 100, 1000)).toEqual({ pps: 0, bps: 0 });
    expect(m.observe('p', 2000, 300, 5000)).toEqual({ pps: 100, bps: 2000 });
    // Too soon after the last sample: the previous rate stands.
    expect(m.observe('p', 2100, 400, 6000)).toEqual({ pps: 100, bps: 2000 });
    // A counter that went down (controller restart) restarts the meter.
    expect(m.observe('p', 4000, 10, 10)).toEqual({ pps: 0, bps: 0 });
    expect(m.observe('p', 5000, 60, 110)).toEqual({ pps: 50, bps: 100 });
    expect(m.rate('other')).toEqual({ pps: 0, bps: 0 });
  });
  it('deltas between snapshots', () => {
    expect(deltas([0, 10, 20, 30], [0, 100, 300, 50])).toEqual([10, 20, 5]);
    expect(deltas([5], [1])).toEqual([]);
  });
});

describe('paths', () => {
  it('worse', () => {
    expect(worse('UP', 'DEGRADED')).toBe('DEGRADED');
    expect(worse('DOWN', 'UP')).toBe('DOWN');
  });
  it('ranks by state, then score, then latency; measured above unmeasured', () => {
    const cases: [Path, Path, boolean][] = [
      [path('a', 's1', 's2', 'UP', 50, 60), path('b', 's1', 's2', 'DEGRADED', 5, 99), true],
      [path('a', 's1', 's2', 'UP', 50, 95), path('b', 's1', 's2', 'UP', 5, 90), true],
      [path('a', 's1', 's2', 'UP', 5, 90), path('b', 's1', 's2', 'UP', 50, 90), true],
      [path('a', 's1', 's2', 'UP', 50, 90), path('b', 's1', 's2', 'UP', 5, 90), false],
      [path('a', 's1', 's2', 'UP', 50), path('b', 's1', 's2', 'UP'), true],
      [path('a', 's1', 's2', 'UP'), path('b', 's1', 's2', 'UP', 50), false],
    ];
    for (const [a, b, want] of cases) expect(better(a, b)).toBe(want);
  });
  it('merges live updates, keeping metrics a state change lacks', () => {
    const l = [path('a', 's1', 's2', 'UP', 10), path('b', 's2', 's1', 'UP', 12)];
    const m = mergePath(l, { ...path('a', 's1', 's2', 'DEGRADED'), metrics: null });
    expect(m[0].status).toBe('DEGRADED');
    expect(m[0].metrics?.latency_ms).toBe(10);
    expect(l[0].status).toBe('UP');
    expect(mergePath(l, path('c', 's1', 's3', 'DOWN')).map((p) => p.id)).toEqual(['a', 'b', 'c']);
  });
  it.each([
    [['UP', 'UP'], 'UP'], [['UP', 'DEGRADED'], 'DEGRADED'], [['UP', 'DOWN'], 'DEGRADED'], [['DOWN', 'DOWN'], 'DOWN'], [[], 'DOWN'],
  ] as [PathStatus[], PathStatus][])('pairStatus(%o) = %s', (s, want) => expect(pairStatus(s)).toBe(want));
  it('groups paths by unordered site pair with the best path labelling it', () => {
    const ps = pairs([
      path('a', 's1', 's2', 'UP', 30), path('b', 's2', 's1', 'UP', 10), path('c', 's1', 's2', 'DEGRADED', 5),
      path('d', 's1', 's3', 'DOWN'), path('loop', 's1', 's1', 'UP', 1),
    ]);
    expect([...ps.keys()].sort()).toEqual([pairKey('s1', 's2'), pairKey('s1', 's3')].sort());
    const p12 = ps.get(pairKey('s2', 's1'))!;
    expect(p12.paths).toBe(3);
    expect(p12.best.id).toBe('b');
    expect(p12.status).toBe('DEGRADED');
    expect(ps.get(pairKey('s1', 's3'))!.status).toBe('DOWN');
  });
  it('bestMatrix is per direction', () => {
    const m = bestMatrix([path('a', 's1', 's2', 'UP', 30), path('b', 's1', 's2', 'UP', 10), path('c', 's2', 's1', 'DOWN', 1)]);
    expect(m.get('s1>s2')!.id).toBe('b');
    expect(m.get('s2>s1')!.id).toBe('c');
    expect(m.has('s1>s3')).toBe(false);
  });
  it('countByState and pathLabel', () => {
    expect(countByState([path('a', 's1', 's2', 'UP'), path('b', 's1', 's2', 'DOWN'), path('c', 's1', 's2', 'DOWN')])).toEqual({ UP: 1, DEGRADED: 0, DOWN: 2 });
    expect(pathLabel(path('a', 's1', 's2', 'UP'))).toBe('s1/wan1 → s2/wan1');
  });
});

describe('availability', () => {
  const t = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
  const T = (m: number) => Date.UTC(2026, 0, 1, 0, m);
  const ev = (m: number, from: PathStatus | null, to: PathStatus): PathEvent => ({ at: t(m), kind: 'state', from, to, reason: '' });
  it('reconstructs states from events', () => {
    const segs = timeline([ev(30, 'UP', 'DOWN'), ev(40, 'DOWN', 'UP')], 'UP', T(0), T(60));
    expect(segs.map((s) => [s.status, (s.end - s.start) / 60000])).toEqual([['UP', 30], ['DOWN', 10], ['UP', 20]]);
    const u = uptime(segs);
    expect(u.offline).toBe(10 * 60000);
    expect(u.pct).toBeCloseTo((50 / 60) * 100);
  });
  it('uses the state before the window and the current state without events', () => {
    expect(timeline([ev(-5, 'UP', 'DOWN')], 'DOWN', T(0), T(10)).map((s) => s.status)).toEqual(['DOWN']);
    expect(timeline([], 'DEGRADED', T(0), T(10))).toEqual([{ start: T(0), end: T(10), status: 'DEGRADED' }]);
    expect(uptime([]).pct).toBe(100);
  });
  it('a link is online while any of its paths is', () => {
    const a = timeline([ev(10, 'UP', 'DOWN'), ev(30, 'DOWN', 'UP')], 'UP', T(0), T(60));
    const b = timeline([ev(20, 'UP', 'DOWN'), ev(40, 'DOWN', 'UP')], 'UP', T(0), T(60));
    const link = linkTimeline([a, b], T(0), T(60));
    expect(uptime(link).offline).toBe(10 * 60000); // 20-30, when both were down
    expect(linkTimeline([], T(0), T(1))).toEqual([]);
    // A path created at minute 50 counts only from then.
    const young = timeline([], 'UP', T(50), T(60));
    expect(uptime(linkTimeline([young], T(0), T(60)))).toEqual({ online: 10 * 60000, offline: 0, pct: 100 });
  });
});

describe('layout', () => {
  it('places small networks on a circle', () => {
    const ps = circle(4, 10);
    expect(ps[0].x).toBeCloseTo(0);
    expect(ps[0].y).toBeCloseTo(-10);
    expect(layout(3, [[0, 1]])).toEqual(circle(3, 1000 / 2.5));
  });
  it('lays out 500 sites deterministically, finitely and without stacking nodes', () => {
    const n = 500;
    const edges: [number, number][] = [];
    for (let i = 0; i < n; i++) for (let k = 1; k <= 4; k++) edges.push([i, (i * 7 + k * 13) % n]);
    const t0 = performance.now();
    const a = layout(n, edges, 3600, 40);
    const took = performance.now() - t0;
    expect(layout(n, edges, 3600, 40)).toEqual(a);
    expect(a.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))).toBe(true);
    const seen = new Set(a.map((p) => `${Math.round(p.x)},${Math.round(p.y)}`));
    expect(seen.size).toBe(n);
    const b = bounds(a);
    expect(b.maxX - b.minX).toBeGreaterThan(100);
    expect(took).toBeLessThan(5000); // a sanity bound, not a benchmark
  });
});

describe('series', () => {
  it('buckets long series into at most maxPoints averaged points', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const [bx, by] = bucket(xs, [xs.map((x) => x * 2)], 10);
    expect(bx.length).toBe(10);
    expect(by[0]).toBeCloseTo(bx[0] * 2);
    expect(bucket([1, 2], [[3, 4]], 10)).toEqual([[1, 2], [3, 4]]);
  });
  it('appends live points and drops those older than the range', () => {
    const cols = [[100, 200, 300], [1, 2, 3]];
    expect(appendLive(cols, 400, [4], 250)).toEqual([[200, 300, 400], [2, 3, 4]]);
    expect(appendLive(cols, 300, [9], 250)).toBe(cols); // not newer: ignored
    expect(appendLive([[], []], 5, [1], 60)).toEqual([[5], [1]]);
  });
  it('window and toColumns', () => {
    const w = window('1h', Date.UTC(2026, 0, 1, 12));
    expect(w.to.getTime() - w.from.getTime()).toBe(3600_000);
    const cols = toColumns([{ latency_ms: 10, jitter_ms: 1, packet_loss_pct: 0.5, score: 90, measured_at: '2026-01-01T00:00:10Z' }]);
    expect(cols).toEqual([[Date.UTC(2026, 0, 1, 0, 0, 10) / 1000], [10], [1], [0.5], [90]]);
  });
});

describe('router', () => {
  it.each([
    ['/sites/:id', '/sites/abc', { id: 'abc' }], ['/sites/:id', '/sites/a%20b', { id: 'a b' }], ['/sites/:id', '/sites', null],
    ['/sites/:id', '/policies/x', null], ['/ops', '/ops/', {}],
  ])('match(%s, %s)', (p, s, want) => expect(match(p, s)).toEqual(want));
});

describe('misc', () => {
  it('dependencySummary lists what goes, in words', () => {
    expect(dependencySummary({ endpoints: 2, paths: 1, metrics: 0, pathEvents: 5, policyStats: 0, credentials: 1 }))
      .toEqual(['2 WAN links', '1 path', '5 path events', '1 site credential']);
    expect(dependencySummary({ endpoints: 0, paths: 0, metrics: 0, pathEvents: 0, policyStats: 0, credentials: 0 })).toEqual([]);
  });
  it('exportName', () => {
    expect(exportName('csv', new Date('2026-01-02T03:04:00Z'), new Date('2026-01-03T00:00:00Z'))).toBe('patronus-stats-20260102-0304-20260103-0000.csv');
  });
  it('pushEvent keeps the newest first and caps the feed', () => {
    let l: ReturnType<typeof pushEvent> = [];
    for (let i = 0; i < 5; i++) l = pushEvent(l, { kind: 'AUDIT', at: String(i), siteId: null, pathId: null, policyId: null, auditId: null, severity: null, summary: `e${i}` }, 3);
    expect(l.map((e) => e.summary)).toEqual(['e4', 'e3', 'e2']);
  });
});
