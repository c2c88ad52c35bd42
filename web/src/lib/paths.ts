// Path bookkeeping: merging live updates, ranking paths, site-pair views.

import type { Path, PathStatus } from '../api/types';

const stateRank: Record<PathStatus, number> = { UP: 0, DEGRADED: 1, DOWN: 2 };

/** worse returns the worse of two states (DOWN > DEGRADED > UP). */
export function worse(a: PathStatus, b: PathStatus): PathStatus {
  return stateRank[a] >= stateRank[b] ? a : b;
}

/**
 * better reports whether path a should be preferred over b: a better
 * state first, then a higher score, then lower latency. A path without a
 * measurement ranks below a measured one of the same state.
 */
export function better(a: Path, b: Path): boolean {
  if (stateRank[a.status] !== stateRank[b.status]) return stateRank[a.status] < stateRank[b.status];
  const am = a.metrics, bm = b.metrics;
  if (!am || !bm) return !!am && !bm;
  if (am.score !== bm.score) return am.score > bm.score;
  return am.latency_ms < bm.latency_ms;
}

/** mergePath applies a live update to a list of paths, keeping its order; new paths are appended. */
export function mergePath(list: Path[], upd: Path): Path[] {
  const i = list.findIndex((p) => p.id === upd.id);
  if (i < 0) return [...list, upd];
  const out = list.slice();
  // An update may come without metrics (a state change); keep the last ones.
  out[i] = { ...list[i], ...upd, metrics: upd.metrics ?? list[i].metrics };
  return out;
}

/** countByState counts paths per state. */
export function countByState(paths: Iterable<Path>): Record<PathStatus, number> {
  const c: Record<PathStatus, number> = { UP: 0, DEGRADED: 0, DOWN: 0 };
  for (const p of paths) c[p.status]++;
  return c;
}

/** pairKey names an unordered site pair. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Pair is what the topology draws between two sites. */
export interface Pair {
  key: string;
  a: string;
  b: string;
  /** The best path either way, whose latency and loss label the edge. */
  best: Path;
  /** Up when every path is up, down when every path is down, else degraded. */
  status: PathStatus;
  paths: number;
}

/** pairStatus summarises a pair's states: all up, all down, or degraded between. */
export function pairStatus(states: PathStatus[]): PathStatus {
  if (states.length === 0) return 'DOWN';
  if (states.every((s) => s === 'UP')) return 'UP';
  if (states.every((s) => s === 'DOWN')) return 'DOWN';
  return 'DEGRADED';
}

/** pairs groups paths by unordered site pair. Paths missing a site are skipped. */
export function pairs(paths: Iterable<Path>): Map<string, Pair> {
  const states = new Map<string, PathStatus[]>();
  const out = new Map<string, Pair>();
  for (const p of paths) {
    const a = p.srcSite?.id, b = p.dstSite?.id;
    if (!a || !b || a === b) continue;
    const key = pairKey(a, b);
    const cur = out.get(key);
    if (!cur) {
      out.set(key, { key, a: a < b ? a : b, b: a < b ? b : a, best: p, status: p.status, paths: 1 });
      states.set(key, [p.status]);
    } else {
      cur.paths++;
      if (better(p, cur.best)) cur.best = p;
      states.get(key)!.push(p.status);
    }
  }
  for (const [k, pr] of out) pr.status = pairStatus(states.get(k)!);
  return out;
}

/**
 * bestMatrix picks the best path for each ordered (source, destination)
 * pair of sites: the site-to-site matrix.
 */
export function bestMatrix(paths: Iterable<Path>): Map<string, Path> {
  const m = new Map<string, Path>();
  for (const p of paths) {
    const a = p.srcSite?.id, b = p.dstSite?.id;
    if (!a || !b) continue;
    const k = `${a}>${b}`;
    const cur = m.get(k);
    if (!cur || better(p, cur)) m.set(k, p);
  }
  return m;
}

/** pathLabel names a path by its ends: site-1/wan1 → site-2/wan2. */
export function pathLabel(p: Path): string {
  return `${p.srcSite?.name ?? '?'}/${p.srcEndpoint?.name ?? '?'} → ${p.dstSite?.name ?? '?'}/${p.dstEndpoint?.name ?? '?'}`;
}
