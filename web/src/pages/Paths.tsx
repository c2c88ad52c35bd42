import { useEffect, useMemo, useState } from 'preact/hooks';
import { subscribe } from '../api/client';
import { PATHS, SUB_PATHS } from '../api/queries';
import type { Path, Ref } from '../api/types';
import { Badge, ErrorBanner, Seg, useQuery } from '../components/ui';
import { duration, ms, pct, time } from '../lib/format';
import { linkTimeline, timeline, uptime, type Segment } from '../lib/availability';
import { bestMatrix, mergePath } from '../lib/paths';
import { ranges, type RangeKey } from '../lib/series';

const MAX_MATRIX = 40;

export function PathsPage() {
  const [range, setRange] = useState<RangeKey>('24h');
  const [now] = useState(() => Date.now());
  const vars = useMemo(() => ({ from: new Date(now - ranges[range].seconds * 1000).toISOString(), to: new Date(now).toISOString() }), [range, now]);
  const q = useQuery<{ sites: Ref[]; paths: Path[] }>(PATHS, vars);
  const [paths, setPaths] = useState<Path[]>([]);
  useEffect(() => { setPaths(q.data?.paths ?? []); }, [q.data]);
  useEffect(() => subscribe<{ pathUpdates: Path }>(SUB_PATHS, undefined, (d) => setPaths((l) => mergePath(l, d.pathUpdates))), []);
  const sites = (q.data?.sites ?? []).slice(0, MAX_MATRIX);
  const matrix = useMemo(() => bestMatrix(paths), [paths]);

  // Availability per WAN link: online while any of its paths is.
  const links = useMemo(() => {
    const from = Date.parse(vars.from), to = Date.parse(vars.to);
    const by = new Map<string, { site: string; link: string; segs: Segment[][]; events: { at: string; text: string }[] }>();
    for (const p of paths) {
      const k = p.srcEndpoint?.id;
      if (!k) continue;
      let l = by.get(k);
      if (!l) by.set(k, (l = { site: p.srcSite?.name ?? '?', link: p.srcEndpoint?.name ?? '?', segs: [], events: [] }));
      // A path counts from when it was created, not from the window's start.
      const born = p.createdAt ? Date.parse(p.createdAt) : from;
      l.segs.push(timeline(p.events ?? [], p.status, Math.min(to, Math.max(from, born)), to));
      for (const e of p.events ?? []) if (e.to) l.events.push({ at: e.at, text: `${p.dstSite?.name}/${p.dstEndpoint?.name}: ${(e.from ?? '?').toLowerCase()} → ${e.to.toLowerCase()}${e.reason ? ` (${e.reason})` : ''}` });
    }
    return [...by.entries()].map(([id, l]) => {
      const u = uptime(linkTimeline(l.segs, from, to));
      l.events.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
      return { id, ...l, u };
    }).sort((a, b) => a.site.localeCompare(b.site) || a.link.localeCompare(b.link));
  }, [paths, vars]);

  return (
    <div>
      <div class="row"><h1>Paths</h1><span class="spacer" /><Seg label="Availability window" value={range} onChange={setRange}
        options={(Object.keys(ranges) as RangeKey[]).map((k) => ({ value: k, label: ranges[k].label }))} /></div>
      <ErrorBanner error={q.error} />
      <section class="panel">
        <h2 style="margin-top:0">Site to site: best path</h2>
        <p class="muted">Rows are sources, columns destinations: latency (round trip) and loss of the best path between them.
          {(q.data?.sites.length ?? 0) > MAX_MATRIX && ` Showing the first ${MAX_MATRIX} of ${q.data!.sites.length} sites.`}</p>
        <table class="matrix" data-testid="matrix">
          <thead><tr><th>from \ to</th>{sites.map((s) => <th>{s.name}</th>)}</tr></thead>
          <tbody>{sites.map((a) => (
            <tr><th>{a.name}</th>{sites.map((b) => {
              if (a.id === b.id) return <td class="muted">—</td>;
              const p = matrix.get(`${a.id}>${b.id}`);
              if (!p) return <td class="muted">no path</td>;
              return <td class={`cell-${p.status}`} title={`${p.status.toLowerCase()} via ${p.srcEndpoint?.name} → ${p.dstEndpoint?.name}`}>
                {p.metrics ? <>{ms(p.metrics.latency_ms)}<br />{pct(p.metrics.packet_loss_pct)}</> : p.status.toLowerCase()}</td>;
            })}</tr>))}
          </tbody>
        </table>
      </section>
      <section class="panel">
        <h2 style="margin-top:0">WAN link availability ({ranges[range].label})</h2>
        <table data-testid="availability">
          <thead><tr><th>Site</th><th>Link</th><th class="num">Uptime</th><th class="num">Online</th><th class="num">Offline</th><th>Last transitions</th></tr></thead>
          <tbody>{links.map((l) => (
            <tr><td>{l.site}</td><td>{l.link}</td>
              <td class="num"><span class={l.u.pct >= 99.9 ? 's-UP' : l.u.pct >= 99 ? 's-DEGRADED' : 's-DOWN'}>{l.u.pct.toFixed(l.u.pct === 100 ? 0 : 2)}%</span></td>
              <td class="num">{duration(l.u.online / 1000)}</td><td class="num">{duration(l.u.offline / 1000)}</td>
              <td style="white-space:normal">{l.events.length === 0 ? <span class="muted">none in this window</span> :
                l.events.slice(0, 3).map((e) => <div><span class="muted">{time(e.at)}</span> {e.text}</div>)}</td></tr>))}
          </tbody>
        </table>
      </section>
      <section class="panel">
        <h2 style="margin-top:0">All paths</h2>
        <table>
          <thead><tr><th>From</th><th>To</th><th>State</th><th class="num">Latency</th><th class="num">Jitter</th><th class="num">Loss</th><th class="num">Score</th></tr></thead>
          <tbody>{paths.slice(0, 500).map((p) => (
            <tr data-path-id={p.id}><td>{p.srcSite?.name}/{p.srcEndpoint?.name}</td><td>{p.dstSite?.name}/{p.dstEndpoint?.name}</td><td><Badge s={p.status} /></td>
              <td class="num">{ms(p.metrics?.latency_ms)}</td><td class="num">{ms(p.metrics?.jitter_ms)}</td><td class="num">{pct(p.metrics?.packet_loss_pct)}</td><td class="num">{p.metrics?.score ?? '–'}</td></tr>))}
          </tbody>
        </table>
        {paths.length > 500 && <p class="muted">Showing 500 of {paths.length} paths.</p>}
      </section>
    </div>
  );
}
