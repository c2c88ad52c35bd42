import { useEffect, useState } from 'preact/hooks';
import { subscribe } from '../api/client';
import { events } from '../api/live';
import { OVERVIEW, SUB_METRICS } from '../api/queries';
import type { Site, SystemMetrics } from '../api/types';
import { Badge, Card, ErrorBanner, usePoll, useQuery } from '../components/ui';
import { bitrate, bytes, count, ms, num, pct } from '../lib/format';
import { useStore } from '../lib/store';

export function Overview() {
  const q = useQuery<{ metrics: SystemMetrics; sites: Site[] }>(OVERVIEW);
  const [live, setLive] = useState<SystemMetrics | null>(null);
  const feed = useStore(events);
  useEffect(() => subscribe<{ metricsStream: SystemMetrics }>(SUB_METRICS, undefined, (d) => setLive(d.metricsStream)), []);
  // Site traffic totals are not streamed; refresh them now and then.
  usePoll(() => { void q.reload(); }, 15000);
  const m = live ?? q.data?.metrics;
  const sites = q.data?.sites ?? [];
  return (
    <div data-testid="overview">
      <h1>Overview</h1>
      <ErrorBanner error={q.error} />
      <div class="cards">
        <Card label="Sites" value={m?.sites ?? sites.length} testid="card-sites" />
        <Card label="Paths up" value={<span class="s-UP">{m?.pathsUp ?? '–'}</span>} testid="card-up" />
        <Card label="Paths degraded" value={<span class="s-DEGRADED">{m?.pathsDegraded ?? '–'}</span>} testid="card-degraded" />
        <Card label="Paths down" value={<span class="s-DOWN">{m?.pathsDown ?? '–'}</span>} testid="card-down" />
        <Card label="Throughput" value={m ? bitrate((m.throughputMbps * 1e6) / 8) : '–'} />
        <Card label="Packets/s" value={m ? count(num(m.packetsPerSecond)) : '–'} />
        <Card label="Active flows" value={m ? count(num(m.activeFlows)) : '–'} />
        <Card label="Avg latency / loss" value={m ? `${ms(m.avgLatencyMs)} / ${pct(m.avgPacketLoss)}` : '–'} />
      </div>
      <div class="grid2">
        <section class="panel" aria-labelledby="ov-sites">
          <h2 id="ov-sites" style="margin-top:0">Sites</h2>
          {sites.length === 0 && !q.loading && <p class="muted">No sites yet. An admin can add them under <a href="/sites">Sites</a>.</p>}
          <table data-testid="overview-sites">
            <thead><tr><th>Site</th><th>Status</th><th class="num">Links</th><th class="num">Packets</th><th class="num">Bytes</th><th class="num">Flows</th></tr></thead>
            <tbody>
              {sites.map((s) => (
                <tr>
                  <td><a href={`/sites/${s.id}`}>{s.name}</a></td>
                  <td><Badge s={s.status} /></td>
                  <td class="num">{s.endpointCount}</td>
                  <td class="num">{count(num(s.traffic?.packets))}</td>
                  <td class="num">{bytes(num(s.traffic?.bytes))}</td>
                  <td class="num">{count(num(s.traffic?.activeFlows))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="panel" aria-labelledby="ov-feed">
          <h2 id="ov-feed" style="margin-top:0">Live events</h2>
          {feed.length === 0 && <p class="muted">Path state changes, failovers and changes by operators appear here as they happen.</p>}
          <ul class="feed" data-testid="feed">
            {feed.map((e) => (
              <li><time dateTime={e.at}>{new Date(e.at).toLocaleTimeString()}</time>
                <span class={e.severity === 'CRITICAL' ? 's-DOWN' : e.severity === 'WARNING' ? 's-DEGRADED' : ''}>{e.summary || e.kind.toLowerCase()}</span></li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
