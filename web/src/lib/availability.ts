// Availability over a window from a path's state changes.

import type { PathEvent, PathStatus } from '../api/types';

export interface Segment { start: number; end: number; status: PathStatus }

/**
 * timeline reconstructs a path's states over [from, to] (ms) from its
 * state-change events and its current status. Before the first event in
 * the window the path was in that event's "from" state (or, without
 * events, in its current state throughout).
 */
export function timeline(events: PathEvent[], current: PathStatus, from: number, to: number): Segment[] {
  const changes = events
    .filter((e) => e.to && Number.isFinite(Date.parse(e.at)))
    .map((e) => ({ at: Date.parse(e.at), from: e.from, to: e.to as PathStatus }))
    .sort((x, y) => x.at - y.at);
  const before = changes.filter((c) => c.at <= from);
  const inside = changes.filter((c) => c.at > from && c.at < to);
  let state: PathStatus = before.length ? before[before.length - 1].to : inside.length ? (inside[0].from ?? current) : current;
  const out: Segment[] = [];
  let t = from;
  for (const c of inside) {
    if (c.at > t) out.push({ start: t, end: c.at, status: state });
    state = c.to;
    t = c.at;
  }
  if (to > t) out.push({ start: t, end: to, status: state });
  return merge(out);
}

function merge(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last && last.status === s.status && last.end === s.start) last.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

export interface Uptime { online: number; offline: number; pct: number }

/** uptime sums the time online (up or degraded) and offline (down) in ms. */
export function uptime(segs: Segment[]): Uptime {
  let online = 0, offline = 0;
  for (const s of segs) {
    if (s.status === 'DOWN') offline += s.end - s.start;
    else online += s.end - s.start;
  }
  const total = online + offline;
  return { online, offline, pct: total > 0 ? (100 * online) / total : 100 };
}

/**
 * linkTimeline combines the timelines of a link's paths: the link is
 * online while any of its paths is, so one dead peer does not count
 * against the link itself.
 */
export function linkTimeline(paths: Segment[][], from: number, to: number): Segment[] {
  if (paths.length === 0) return [];
  const cuts = new Set<number>([from, to]);
  for (const segs of paths) for (const s of segs) { cuts.add(s.start); cuts.add(s.end); }
  const ts = [...cuts].filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  const out: Segment[] = [];
  const idx = paths.map(() => 0);
  for (let i = 0; i + 1 < ts.length; i++) {
    const mid = (ts[i] + ts[i + 1]) / 2;
    let status: PathStatus = 'DOWN';
    let covered = false;
    paths.forEach((segs, j) => {
      while (idx[j] < segs.length && segs[idx[j]].end <= mid) idx[j]++;
      const s = segs[idx[j]];
      if (!s || s.start > mid) return;
      covered = true;
      if (s.status !== 'DOWN') status = s.status === 'UP' || status === 'UP' ? 'UP' : 'DEGRADED';
    });
    // Before any of its paths existed the link is neither online nor offline.
    if (covered) out.push({ start: ts[i], end: ts[i + 1], status });
  }
  return merge(out);
}
