// Rates from cumulative counters (packets_matched, bytes_matched), which
// the API reports as running totals.

import { num } from './format';

export interface Sample { at: number; packets: number; bytes: number }

/** RateMeter turns successive cumulative samples per key into rates. */
export class RateMeter {
  private readonly last = new Map<string, Sample>();
  private readonly rates = new Map<string, { pps: number; bps: number }>();

  /**
   * observe records a sample for key and returns its rate since the
   * previous one. A counter that went down (a reset) restarts the meter;
   * a sample less than 200 ms after the last keeps the previous rate.
   */
  observe(key: string, at: number, packets: number | string, bytes: number | string): { pps: number; bps: number } {
    const s: Sample = { at, packets: num(packets), bytes: num(bytes) };
    const prev = this.last.get(key);
    if (!prev || s.packets < prev.packets || s.bytes < prev.bytes) {
      this.last.set(key, s);
      const r = { pps: 0, bps: 0 };
      this.rates.set(key, r);
      return r;
    }
    const dt = (s.at - prev.at) / 1000;
    if (dt < 0.2) return this.rates.get(key) ?? { pps: 0, bps: 0 };
    const r = { pps: (s.packets - prev.packets) / dt, bps: (s.bytes - prev.bytes) / dt };
    this.last.set(key, s);
    this.rates.set(key, r);
    return r;
  }

  rate(key: string): { pps: number; bps: number } { return this.rates.get(key) ?? { pps: 0, bps: 0 }; }

  forget(key: string): void { this.last.delete(key); this.rates.delete(key); }
}

/**
 * deltas turns cumulative snapshots (oldest first) into per-second rates
 * between consecutive ones, for history charts; a counter reset gives the
 * new value over the interval rather than a negative rate.
 */
export function deltas(ts: number[], values: number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const dt = ts[i] - ts[i - 1];
    const dv = values[i] >= values[i - 1] ? values[i] - values[i - 1] : values[i];
    out.push(dt > 0 ? dv / dt : 0);
  }
  return out;
}
