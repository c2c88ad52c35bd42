// Number and time formatting for people.

/** num converts the API's Int64 (a string or number) to a number. */
export function num(v: number | string | null | undefined): number {
  if (v === null || v === undefined || v === '') return 0;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}

const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** bytes formats a byte count with a decimal unit: 1.5 MB. */
export function bytes(v: number | string): string {
  let n = num(v);
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[i]}`;
}

/** count formats a count compactly: 950, 12.3k, 4.5M. */
export function count(v: number | string): string {
  const n = num(v);
  const a = Math.abs(n);
  if (a < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(1);
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 2 : 1)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/** rate formats a per-second rate: 12.3k/s. */
export function rate(perSecond: number, unit = ''): string {
  return `${count(Math.round(perSecond * 10) / 10)}${unit}/s`;
}

/** bitrate formats bytes per second as bits per second. */
export function bitrate(bytesPerSecond: number): string {
  let n = bytesPerSecond * 8;
  const u = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(n < 10 && i > 0 ? 2 : n < 100 && i > 0 ? 1 : 0)} ${u[i]}`;
}

/** ms formats milliseconds: 0.42 ms, 12.3 ms, 250 ms. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${v < 1 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`;
}

/** pct formats a percentage: 0%, 0.4%, 12%. */
export function pct(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0%';
  return `${v < 1 ? v.toFixed(2) : v < 10 ? v.toFixed(1) : v.toFixed(0)}%`;
}

/** duration formats seconds as the two largest units: 3d 4h, 5m 12s. */
export function duration(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  const parts: [number, string][] = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  const out: string[] = [];
  for (const [size, name] of parts) {
    if (s >= size || (size === 1 && out.length === 0)) {
      out.push(`${Math.floor(s / size)}${name}`);
      s %= size;
    }
    if (out.length === 2) break;
  }
  return out.join(' ');
}

/** ago formats how long before now a time was: 5s ago, 3m 2s ago. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '–';
  return `${duration((now - t) / 1000)} ago`;
}

/** time formats a time as a local date and time. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isFinite(d.getTime()) ? d.toLocaleString() : '–';
}

/** hitRatio is hits over lookups, as a percentage, or null before any lookup. */
export function hitRatio(c: { hits: number | string; misses: number | string }): number | null {
  const h = num(c.hits), m = num(c.misses);
  return h + m === 0 ? null : (100 * h) / (h + m);
}

