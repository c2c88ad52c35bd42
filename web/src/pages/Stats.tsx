import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api/client';
import { ApiError } from '../api/errors';
import { exportURL, METRICS_HISTORY, POLICIES, POLICY_HISTORY, SITES } from '../api/queries';
import { session } from '../api/session';
import type { Policy, Site, SystemMetrics } from '../api/types';
import { Chart } from '../components/Chart';
import { ErrorBanner, Field, Seg, useQuery } from '../components/ui';
import { num } from '../lib/format';
import { deltas } from '../lib/rates';
import { exportName, localInput } from '../lib/exportfile';
import { ranges, window as rangeWindow, type RangeKey } from '../lib/series';

export function StatsPage() {
  const [range, setRange] = useState<RangeKey>('1h');
  const pol = useQuery<{ policies: Policy[] }>(POLICIES);
  const sites = useQuery<{ sites: Site[] }>(SITES, { deleted: false });
  const [policy, setPolicy] = useState('');
  const [site, setSite] = useState('');
  const [polCols, setPolCols] = useState<number[][]>([[], [], []]);
  const [sysCols, setSysCols] = useState<number[][]>([[], [], []]);
  const [err, setErr] = useState<Error | null>(null);

  useEffect(() => { if (!policy && pol.data?.policies.length) setPolicy(pol.data.policies[0].id); }, [pol.data]);

  useEffect(() => {
    const { from, to } = rangeWindow(range);
    const v = { from: from.toISOString(), to: to.toISOString(), step: ranges[range].step };
    gql<{ metricsHistory: SystemMetrics[] }>(METRICS_HISTORY, v).then((d) => {
      const h = d.metricsHistory;
      setSysCols([h.map((m) => Date.parse(m.timestamp) / 1000), h.map((m) => m.throughputMbps), h.map((m) => num(m.packetsPerSecond))]);
    }).catch(setErr);
    if (!policy) return;
    gql<{ policyStatsHistory: { timestamp: string; packets_matched: string; bytes_matched: string }[] }>(POLICY_HISTORY, { id: policy, ...v, site: site || null })
      .then((d) => {
        const h = d.policyStatsHistory;
        const ts = h.map((s) => Date.parse(s.timestamp) / 1000);
        setPolCols([ts.slice(1), deltas(ts, h.map((s) => num(s.packets_matched))), deltas(ts, h.map((s) => (num(s.bytes_matched) * 8) / 1e6))]);
      }).catch(setErr);
  }, [range, policy, site]);

  return (
    <div>
      <div class="row"><h1>Statistics</h1><span class="spacer" />
        <Seg label="Time range" value={range} onChange={setRange} options={(Object.keys(ranges) as RangeKey[]).map((k) => ({ value: k, label: ranges[k].label }))} /></div>
      <ErrorBanner error={err ?? pol.error} />
      <div class="row" style="margin-bottom:.5rem">
        <label>Policy <select value={policy} onChange={(e) => setPolicy(e.currentTarget.value)} aria-label="Policy">
          {(pol.data?.policies ?? []).map((p) => <option value={p.id}>{p.name}</option>)}</select></label>
        <label>Site <select value={site} onChange={(e) => setSite(e.currentTarget.value)} aria-label="Site">
          <option value="">all sites</option>{(sites.data?.sites ?? []).map((s) => <option value={s.id}>{s.name}</option>)}</select></label>
      </div>
      <div class="grid2">
        <Chart title="Policy packets per second" data={[polCols[0], polCols[1]]} series={['packets/s']} />
        <Chart title="Policy throughput" data={[polCols[0], polCols[2]]} series={['Mbit/s']} unit=" Mb/s" />
        <Chart title="All traffic: throughput" data={[sysCols[0], sysCols[1]]} series={['Mbit/s']} unit=" Mb/s" />
        <Chart title="All traffic: packets per second" data={[sysCols[0], sysCols[2]]} series={['packets/s']} />
      </div>
      <Export policies={pol.data?.policies ?? []} sites={sites.data?.sites ?? []} />
    </div>
  );
}

function Export({ policies, sites }: { policies: Policy[]; sites: Site[] }) {
  const [format, setFormat] = useState<'csv' | 'json' | 'ndjson'>('csv');
  const [from, setFrom] = useState(localInput(new Date(Date.now() - 86400_000)));
  const [to, setTo] = useState(localInput(new Date(Date.now() + 60_000)));
  const [policy, setPolicy] = useState('');
  const [site, setSite] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr('');
    const f = new Date(from), t = new Date(to);
    if (!(f < t)) { setErr('"From" must be before "to".'); return; }
    setBusy(true);
    try {
      const res = await fetch(exportURL(format, f, t, policy || undefined, site || undefined), {
        headers: { Authorization: `Bearer ${session.get()?.token ?? ''}` },
      });
      if (!res.ok) {
        let msg = `${res.status} ${res.statusText}`;
        try { const b = await res.json(); msg = b.error ?? b.message ?? b.errors?.[0]?.message ?? msg; } catch { /* not JSON */ }
        throw new ApiError(`Export failed: ${msg}`, String(res.status));
      }
      const blob = await res.blob();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = exportName(format, f, t);
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (x) {
      setErr((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel form" onSubmit={submit} aria-label="Export statistics" data-testid="export-form">
      <h2 style="grid-column:1/-1;margin:0">Export</h2>
      <Field name="format" label="Format"><select id="f-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as typeof format)}>
        <option value="csv">CSV</option><option value="json">JSON</option><option value="ndjson">NDJSON</option></select></Field>
      <Field name="from" label="From"><input id="f-from" type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} required /></Field>
      <Field name="to" label="To"><input id="f-to" type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} required /></Field>
      <Field name="policy" label="Policy"><select id="f-policy" value={policy} onChange={(e) => setPolicy(e.currentTarget.value)}>
        <option value="">all policies</option>{policies.map((p) => <option value={p.id}>{p.name}</option>)}</select></Field>
      <Field name="site" label="Site"><select id="f-site" value={site} onChange={(e) => setSite(e.currentTarget.value)}>
        <option value="">totals over all sites</option><option value="*">each site</option>{sites.map((s) => <option value={s.id}>{s.name}</option>)}</select></Field>
      {err && <div class="form-error" role="alert">{err}</div>}
      <div class="form-actions"><button class="primary" type="submit" disabled={busy}>{busy ? 'Exporting…' : 'Download'}</button></div>
    </form>
  );
}
