import { useEffect, useMemo, useState } from 'preact/hooks';
import { gql, subscribe } from '../api/client';
import { PATH_HISTORY, SITE, SUB_PATHS } from '../api/queries';
import type { Path, PathMetrics, Site } from '../api/types';
import { Chart } from '../components/Chart';
import { Badge, ErrorBanner, Seg, useQuery } from '../components/ui';
import { bytes, count, ms, num, pct } from '../lib/format';
import { mergePath, pathLabel } from '../lib/paths';
import { appendLive, ranges, toColumns, window as rangeWindow, type RangeKey } from '../lib/series';

const rangeOptions = (Object.keys(ranges) as RangeKey[]).map((k) => ({ value: k, label: ranges[k].label }));

export function SitePage({ id }: { id: string }) {
  const q = useQuery<{ site: Site | null }>(SITE, { id });
  const site = q.data?.site;
  const [paths, setPaths] = useState<Path[]>([]);
  const [sel, setSel] = useState('');
  const [range, setRange] = useState<RangeKey>('15m');
  const [cols, setCols] = useState<number[][]>([[], [], [], [], []]);
  const [histErr, setHistErr] = useState<Error | null>(null);

  useEffect(() => {
    if (!site) return;
    setPaths(site.paths ?? []);
    if (!sel || !(site.paths ?? []).some((p) => p.id === sel)) setSel(site.paths?.find((p) => p.srcSite?.id === site.id)?.id ?? site.paths?.[0]?.id ?? '');
  }, [site]);

  useEffect(() => {
    if (!site) return;
    return subscribe<{ pathUpdates: Path }>(SUB_PATHS, { site: site.id }, (d) => {
      setPaths((l) => mergePath(l, d.pathUpdates));
      const m = d.pathUpdates.metrics;
      if (d.pathUpdates.id === sel && m) {
        setCols((c) => appendLive(c, Date.parse(m.measured_at) / 1000, [m.latency_ms, m.jitter_ms, m.packet_loss_pct, m.score], ranges[range].seconds));
      }
    });
  }, [site?.id, sel, range]);

  useEffect(() => {
    if (!sel) return;
    const { from, to } = rangeWindow(range);
    let live = true;
    gql<{ path: { metricsHistory: PathMetrics[] } | null }>(PATH_HISTORY, { id: sel, from: from.toISOString(), to: to.toISOString(), limit: 20000 })
      .then((d) => { if (live) { setCols(toColumns(d.path?.metricsHistory ?? [])); setHistErr(null); } })
      .catch((e) => live && setHistErr(e));
    return () => { live = false; };
  }, [sel, range]);

  const selected = useMemo(() => paths.find((p) => p.id === sel), [paths, sel]);
  if (q.loading && !site) return <p class="muted">Loading…</p>;
  if (!site) return <div><ErrorBanner error={q.error} /><h1>Site not found</h1><p><a href="/sites">All sites</a></p></div>;
  return (
    <div data-testid="site-page">
      <div class="row"><h1>{site.name}</h1><Badge s={site.status} />{site.deletedAt && <span class="badge s-DOWN">deleted</span>}</div>
      {site.description && <p class="muted">{site.description}</p>}
      <div class="cards">
        <div class="card"><div class="l">Packets</div><div class="v">{count(num(site.traffic?.packets))}</div></div>
        <div class="card"><div class="l">Bytes</div><div class="v">{bytes(num(site.traffic?.bytes))}</div></div>
        <div class="card"><div class="l">Active flows</div><div class="v">{count(num(site.traffic?.activeFlows))}</div></div>
        <div class="card"><div class="l">Prefixes</div><div class="v" style="font-size:1rem">{site.prefixes?.join(', ') || '–'}</div></div>
      </div>
      <section class="panel">
        <h2 style="margin-top:0">WAN links</h2>
        <table><thead><tr><th>Link</th><th>Address</th><th>Kind</th><th class="num">Bandwidth</th><th class="num">Cost/GB</th><th>Reachable</th></tr></thead>
          <tbody>{(site.endpoints ?? []).map((e) => (
            <tr><td>{e.name}</td><td><code>{e.address}</code></td><td>{e.kind.toLowerCase()}</td><td class="num">{e.bandwidthMbps} Mbit/s</td><td class="num">{e.costPerGb}</td>
              <td><Badge s={e.reachable ? 'UP' : 'DOWN'} /></td></tr>))}
          </tbody></table>
      </section>
      <section class="panel">
        <h2 style="margin-top:0">Paths</h2>
        <table data-testid="site-paths"><thead><tr><th>Path</th><th>State</th><th class="num">Latency</th><th class="num">Jitter</th><th class="num">Loss</th><th class="num">Score</th><th></th></tr></thead>
          <tbody>{paths.map((p) => (
            <tr data-path-id={p.id} data-status={p.status} aria-selected={p.id === sel}>
              <td>{pathLabel(p)}</td><td><Badge s={p.status} /></td>
              <td class="num">{ms(p.metrics?.latency_ms)}</td><td class="num">{ms(p.metrics?.jitter_ms)}</td>
              <td class="num">{pct(p.metrics?.packet_loss_pct)}</td><td class="num">{p.metrics?.score ?? '–'}</td>
              <td><button type="button" onClick={() => setSel(p.id)} disabled={p.id === sel}>{p.id === sel ? 'Charted' : 'Chart'}</button></td>
            </tr>))}
          </tbody></table>
      </section>
      {selected && <>
        <div class="row"><h2>{pathLabel(selected)}</h2><span class="spacer" /><Seg label="Time range" value={range} options={rangeOptions} onChange={setRange} /></div>
        <ErrorBanner error={histErr} />
        <div class="grid2">
          <Chart title="Latency (round trip)" data={[cols[0], cols[1]]} series={['latency']} unit=" ms" testid="chart-latency" />
          <Chart title="Jitter" data={[cols[0], cols[2]]} series={['jitter']} unit=" ms" />
          <Chart title="Loss" data={[cols[0], cols[3]]} series={['loss']} unit="%" />
          <Chart title="Score" data={[cols[0], cols[4]]} series={['score']} />
        </div>
      </>}
    </div>
  );
}
