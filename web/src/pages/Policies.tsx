import { useEffect, useRef, useState } from 'preact/hooks';
import { gql, subscribe } from '../api/client';
import { fieldErrors } from '../api/errors';
import { CREATE_POLICY, DELETE_POLICY, POLICIES, SUB_POLICIES, TOGGLE_POLICY, UPDATE_POLICY } from '../api/queries';
import { can, session } from '../api/session';
import type { Policy } from '../api/types';
import { confirmAction, ErrorBanner, Field, notify, usePoll, useQuery } from '../components/ui';
import { bitrate, bytes, count, num, rate } from '../lib/format';
import { emptyPolicy, fromPolicy, policyFields, reorder, toInput, type PolicyForm } from '../lib/policyForm';
import { RateMeter } from '../lib/rates';
import { useStore } from '../lib/store';

function describeMatch(p: Policy): string {
  const m = p.matchCriteria;
  const parts = [m.protocol, m.sourceIp && `from ${m.sourceIp}`, m.sourcePort && `sport ${m.sourcePort}`, m.destIp && `to ${m.destIp}`, m.destPort && `dport ${m.destPort}`].filter(Boolean);
  return parts.length ? parts.join(' ') : 'any traffic';
}

function describeAction(p: Policy): string {
  const a = p.actions;
  if (a.kind === 'DROP') return 'drop';
  const pref = a.preference === 'LINK' ? `link ${a.link}` : (a.preference ?? 'best_quality').toLowerCase().replace('_', ' ');
  const sla = [a.sla.maxLatencyMs && `≤${a.sla.maxLatencyMs} ms`, a.sla.maxJitterMs && `jitter ≤${a.sla.maxJitterMs} ms`, a.sla.maxLossPct && `loss ≤${a.sla.maxLossPct}%`].filter(Boolean);
  return `steer: ${pref}${sla.length ? ` (${sla.join(', ')})` : ''}`;
}

export function PoliciesPage() {
  const role = useStore(session)?.user.role;
  const edit = can.editPolicies(role);
  const q = useQuery<{ policies: Policy[] }>(POLICIES);
  const meter = useRef(new RateMeter());
  const [, setTick] = useState(0);
  const [form, setForm] = useState<{ id?: string; f: PolicyForm } | null>(null);
  const list = [...(q.data?.policies ?? [])].sort((a, b) => a.priority - b.priority);

  // Feed the rate meter from every fetch of the list.
  useEffect(() => {
    const now = Date.now();
    for (const p of q.data?.policies ?? []) meter.current.observe(p.id, now, p.packets_matched, p.bytes_matched);
    setTick((t) => t + 1);
  }, [q.data]);
  // Live counters: poll the list (cheap) and apply change events at once.
  usePoll(() => { void q.reload(); }, 2000);
  useEffect(() => subscribe<{ policyEvents: { kind: string; policyId: string; policy: Policy | null } }>(SUB_POLICIES, undefined, (d) => {
    const e = d.policyEvents;
    q.setData((cur) => {
      if (!cur) return cur;
      const rest = cur.policies.filter((p) => p.id !== e.policyId);
      return { policies: e.policy && e.kind !== 'POLICY_DELETED' ? [...rest, e.policy] : rest };
    });
  }), []);

  const act = async (fn: () => Promise<unknown>, ok: string) => {
    try { await fn(); notify(ok); await q.reload(); } catch (e) { notify((e as Error).message, 'error'); }
  };
  const move = (i: number, delta: -1 | 1) => act(async () => {
    for (const u of reorder(list, i, delta)) await gql(UPDATE_POLICY, { in: { id: u.id, priority: u.priority } });
  }, 'Priority changed');

  const nextPriority = list.length ? Math.min(1_000_000, Math.max(...list.map((p) => p.priority)) + 10) : 100;
  return (
    <div>
      <div class="row"><h1>Policies</h1><span class="spacer" />
        {edit && !form && <button class="primary" type="button" onClick={() => setForm({ f: emptyPolicy(nextPriority) })}>New policy</button>}
      </div>
      <p class="muted">Evaluated in ascending priority; the first match decides. Rates are live from the edges' counters.</p>
      <ErrorBanner error={q.error} />
      {form && <PolicyEditor id={form.id} initial={form.f} onDone={(saved) => { setForm(null); if (saved) void q.reload(); }} />}
      <div class="panel">
        <table data-testid="policies">
          <thead><tr><th class="num">Priority</th><th>Name</th><th>Matches</th><th>Action</th><th class="num">Packets/s</th><th class="num">Rate</th><th class="num">Packets</th><th class="num">Bytes</th><th class="num">Flows</th><th>Enabled</th>{edit && <th>Actions</th>}</tr></thead>
          <tbody>
            {list.map((p, i) => {
              const r = meter.current.rate(p.id);
              return (
                <tr data-policy={p.name}>
                  <td class="num">{p.priority}</td>
                  <td><strong>{p.name}</strong>{p.description && <div class="muted" style="white-space:normal">{p.description}</div>}</td>
                  <td>{describeMatch(p)}</td>
                  <td>{describeAction(p)}</td>
                  <td class="num" data-testid="pps">{rate(r.pps)}</td>
                  <td class="num">{bitrate(r.bps)}</td>
                  <td class="num">{count(num(p.packets_matched))}</td>
                  <td class="num">{bytes(num(p.bytes_matched))}</td>
                  <td class="num">{count(num(p.active_flows))}</td>
                  <td>{edit
                    ? <input type="checkbox" checked={p.enabled} aria-label={`${p.name} enabled`}
                        onChange={(e) => {
                          const on = e.currentTarget.checked;
                          // Show the new state at once; the reload after the call corrects it if it failed.
                          q.setData((cur) => cur && { policies: cur.policies.map((x) => (x.id === p.id ? { ...x, enabled: on } : x)) });
                          void act(() => gql(TOGGLE_POLICY, { id: p.id, on }), `${p.name} ${on ? 'enabled' : 'disabled'}`);
                        }} />
                    : p.enabled ? 'yes' : 'no'}</td>
                  {edit && <td class="row" style="flex-wrap:nowrap">
                    <button type="button" aria-label={`Move ${p.name} up`} disabled={i === 0} onClick={() => move(i, -1)}>↑</button>
                    <button type="button" aria-label={`Move ${p.name} down`} disabled={i === list.length - 1} onClick={() => move(i, 1)}>↓</button>
                    <button type="button" onClick={() => setForm({ id: p.id, f: fromPolicy(p) })}>Edit</button>
                    <button type="button" class="danger" onClick={async () => {
                      if (await confirmAction(`Delete policy ${p.name}?`, 'Traffic it matches will fall through to the next policy.', 'Delete'))
                        await act(() => gql(DELETE_POLICY, { id: p.id }), `Deleted ${p.name}`);
                    }}>Delete</button>
                  </td>}
                </tr>
              );
            })}
          </tbody>
        </table>
        {list.length === 0 && !q.loading && <p class="muted">No policies yet.</p>}
      </div>
    </div>
  );
}

function PolicyEditor({ id, initial, onDone }: { id?: string; initial: PolicyForm; onDone: (saved: boolean) => void }) {
  const [f, setF] = useState(initial);
  const [errs, setErrs] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => { ref.current?.querySelector<HTMLInputElement>('input')?.focus(); }, []);
  const set = <K extends keyof PolicyForm>(k: K, v: PolicyForm[K]) => setF((x) => ({ ...x, [k]: v }));
  const txt = (k: keyof PolicyForm, label: string, hint?: string, numeric = false) => (
    <Field name={k} label={label} error={errs[k]} hint={hint}>
      <input id={`f-${k}`} name={k} inputMode={numeric ? 'numeric' : undefined} value={f[k] as string} aria-invalid={!!errs[k]} aria-describedby={errs[k] ? `${k}-err` : undefined}
        onInput={(e) => set(k, e.currentTarget.value as never)} />
    </Field>
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    const { input, errors } = toInput(f, id);
    setErrs(errors);
    if (Object.keys(errors).length) return;
    setBusy(true);
    try {
      await gql(id ? UPDATE_POLICY : CREATE_POLICY, { in: input });
      notify(id ? `Saved ${f.name}` : `Created ${f.name}`);
      onDone(true);
    } catch (x) {
      const fe = fieldErrors(x, policyFields);
      setErrs(fe);
      const first = Object.keys(fe).find((k) => k);
      if (first) ref.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel form" ref={ref} onSubmit={submit} aria-label={id ? 'Edit policy' : 'New policy'} data-testid="policy-form" noValidate
      onKeyDown={(e) => { if (e.key === 'Escape') onDone(false); }}>
      <h2 style="grid-column:1/-1;margin:0">{id ? `Edit ${initial.name}` : 'New policy'}</h2>
      {txt('name', 'Name', 'lower-case letters, digits, . - _')}
      {txt('priority', 'Priority', '0-1000000, lower first', true)}
      {txt('description', 'Description')}
      <Field name="enabled" label="Enabled">
        <input id="f-enabled" name="enabled" type="checkbox" checked={f.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} style="width:auto" />
      </Field>
      {txt('protocol', 'Protocol', 'tcp, udp, icmp… or empty for any')}
      {txt('sourceIp', 'Source prefixes', '10.0.0.0/8,192.168.1.7')}
      {txt('sourcePort', 'Source ports', '80,443,8000-8080')}
      {txt('destIp', 'Destination prefixes')}
      {txt('destPort', 'Destination ports')}
      <Field name="kind" label="Action" error={errs.kind}>
        <select id="f-kind" name="kind" value={f.kind} onChange={(e) => set('kind', e.currentTarget.value as PolicyForm['kind'])}>
          <option value="STEER">Steer</option><option value="DROP">Drop</option>
        </select>
      </Field>
      {f.kind === 'STEER' && <>
        <Field name="preference" label="Path preference" error={errs.preference}>
          <select id="f-preference" name="preference" value={f.preference} onChange={(e) => set('preference', e.currentTarget.value as PolicyForm['preference'])}>
            <option value="BEST_QUALITY">Best quality</option><option value="LOWEST_COST">Lowest cost</option><option value="LINK">A named link</option>
          </select>
        </Field>
        {f.preference === 'LINK' && txt('link', 'Link name', 'such as wan1')}
        {txt('maxLatencyMs', 'Max latency (ms)', 'empty: no bound')}
        {txt('maxJitterMs', 'Max jitter (ms)')}
        {txt('maxLossPct', 'Max loss (%)')}
      </>}
      {errs[''] && <div class="form-error" role="alert">{errs['']}</div>}
      <div class="form-actions">
        <button class="primary" type="submit" disabled={busy}>{id ? 'Save' : 'Create'}</button>
        <button type="button" onClick={() => onDone(false)}>Cancel</button>
      </div>
    </form>
  );
}
