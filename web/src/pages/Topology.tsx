import { useMemo, useState } from 'preact/hooks';
import { subscribe } from '../api/client';
import { SUB_PATHS, TOPOLOGY } from '../api/queries';
import type { Path, Site } from '../api/types';
import { TopologyCanvas } from '../components/TopologyCanvas';
import { Badge, ErrorBanner, useQuery } from '../components/ui';
import { ms, pct } from '../lib/format';
import { countByState, pairs, pathLabel } from '../lib/paths';
import { usePoll } from '../components/ui';

export function TopologyPage() {
  const q = useQuery<{ sites: Site[]; paths: Path[] }>(TOPOLOGY);
  const sites = q.data?.sites ?? [];
  const paths = useMemo(() => new Map((q.data?.paths ?? []).map((p) => [p.id, p])), [q.data]);
  // The list beside the canvas is React state refreshed twice a second,
  // so a burst of updates redraws the canvas without re-rendering it.
  const [, setTick] = useState(0);
  usePoll(() => setTick((t) => t + 1), 500);
  const counts = countByState(paths.values());
  const names = new Map(sites.map((s) => [s.id, s.name]));
  const attention = [...paths.values()].filter((p) => p.status !== 'UP').slice(0, 50);
  return (
    <div>
      <div class="row"><h1>Topology</h1><span class="spacer" />
        <span class="muted" data-testid="topology-counts">{sites.length} sites · {paths.size} paths · <span class="s-UP">{counts.UP} up</span> · <span class="s-DEGRADED">{counts.DEGRADED} degraded</span> · <span class="s-DOWN">{counts.DOWN} down</span></span>
      </div>
      <ErrorBanner error={q.error} />
      <div class="topo">
        {q.data && <TopologyCanvas sites={sites} paths={paths} onUpdate={(apply) => subscribe<{ pathUpdates: Path }>(SUB_PATHS, undefined, (d) => apply(d.pathUpdates))} />}
        <div class="legend"><span class="s-UP">━ all paths up</span> · <span class="s-DEGRADED">━ some degraded or down</span> · <span class="s-DOWN">━ all down</span> · label: best latency · loss</div>
      </div>
      <ul class="sr-only" data-testid="topology-sites" aria-label="Sites">
        {sites.map((s) => <li data-site={s.name}><a href={`/sites/${s.id}`}>{s.name}</a></li>)}
      </ul>
      {sites.length <= 60 && (
        // What the canvas shows, for screen readers: each site pair's state.
        <ul class="sr-only" data-testid="topology-pairs" aria-label="Connections between sites">
          {[...pairs(paths.values()).values()].map((pr) => {
            const a = names.get(pr.a), b = names.get(pr.b);
            return <li data-pair={[a, b].sort().join('|')} data-status={pr.status}>{a} to {b}: {pr.status.toLowerCase()}, {pr.paths} paths{pr.best.metrics ? `, best ${ms(pr.best.metrics.latency_ms)} and ${pct(pr.best.metrics.packet_loss_pct)} loss` : ''}</li>;
          })}
        </ul>
      )}
      <section class="panel" aria-labelledby="attention">
        <h2 id="attention" style="margin-top:0">Paths needing attention</h2>
        {attention.length === 0 && <p class="muted">Every path is up.</p>}
        {attention.length > 0 && (
          <table data-testid="attention">
            <thead><tr><th>Path</th><th>State</th><th class="num">Latency</th><th class="num">Loss</th><th class="num">Score</th></tr></thead>
            <tbody>{attention.map((p) => (
              <tr data-path-id={p.id} data-status={p.status}>
                <td>{pathLabel(p)}</td><td><Badge s={p.status} /></td>
                <td class="num">{ms(p.metrics?.latency_ms)}</td><td class="num">{pct(p.metrics?.packet_loss_pct)}</td><td class="num">{p.metrics?.score ?? '–'}</td>
              </tr>))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
