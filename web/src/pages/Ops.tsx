import { useState } from 'preact/hooks';
import { gql } from '../api/client';
import { fieldErrors } from '../api/errors';
import {
  API_KEYS, AUDIT, CACHE_STATS, CHECK_PATH, CLEAR_CACHE, CLEAR_FAILOVER, CREATE_API_KEY, CREATE_USER, DEACTIVATE_USER, FAILOVER, PATHS, REVOKE_API_KEY, UPDATE_USER_ROLE, USERS,
} from '../api/queries';
import { can, session } from '../api/session';
import type { ApiKey, AuditEntry, CacheStats, Path, Role, User } from '../api/types';
import { Badge, confirmAction, ErrorBanner, Field, notify, Seg, usePoll, useQuery } from '../components/ui';
import { ago, count, hitRatio, ms, num, pct, time } from '../lib/format';
import { pathLabel } from '../lib/paths';
import { useStore } from '../lib/store';

type Tab = 'caches' | 'paths' | 'audit' | 'users';

export function OpsPage() {
  const role = useStore(session)?.user.role;
  const [tab, setTab] = useState<Tab>('caches');
  const tabs: { value: Tab; label: string }[] = [{ value: 'caches', label: 'Caches' }, { value: 'paths', label: 'Path health & failover' }];
  if (can.admin(role)) tabs.push({ value: 'audit', label: 'Audit log' }, { value: 'users', label: 'Users & API keys' });
  return (
    <div>
      <div class="row"><h1>Operations</h1><span class="spacer" /><Seg label="Section" value={tab} onChange={setTab} options={tabs} /></div>
      {tab === 'caches' && <Caches operate={can.operate(role)} />}
      {tab === 'paths' && <PathOps operate={can.operate(role)} />}
      {tab === 'audit' && can.admin(role) && <Audit />}
      {tab === 'users' && can.admin(role) && <><Users /><Keys /></>}
    </div>
  );
}

function Caches({ operate }: { operate: boolean }) {
  const q = useQuery<{ cacheStats: CacheStats[] }>(CACHE_STATS);
  usePoll(() => { void q.reload(); }, 5000);
  const clear = async () => {
    if (!(await confirmAction('Clear the caches?', 'Path metrics and routing decisions are recomputed on the next lookups, on every replica sharing the caches.', 'Clear caches'))) return;
    try {
      const d = await gql<{ clearCache: { cleared_entries: number; message: string } }>(CLEAR_CACHE);
      notify(`Cleared ${d.clearCache.cleared_entries} entries`);
      await q.reload();
    } catch (e) { notify((e as Error).message, 'error'); }
  };
  return (
    <section class="panel">
      <div class="row"><h2 style="margin:0">Caches</h2><span class="spacer" />{operate && <button type="button" class="danger" onClick={clear}>Clear caches…</button>}</div>
      <ErrorBanner error={q.error} />
      <table data-testid="caches">
        <thead><tr><th>Cache</th><th class="num">Entries</th><th class="num">Active</th><th class="num">Expired</th><th class="num">Hits</th><th class="num">Misses</th><th class="num">Hit ratio</th><th>Shared</th></tr></thead>
        <tbody>{(q.data?.cacheStats ?? []).map((c) => {
          const r = hitRatio(c);
          return <tr><td>{c.name}</td><td class="num">{c.total}</td><td class="num">{c.active}</td><td class="num">{c.expired}</td>
            <td class="num">{count(num(c.hits))}</td><td class="num">{count(num(c.misses))}</td><td class="num">{r === null ? '–' : pct(r)}</td><td>{c.shared ? 'Redis' : 'this replica'}</td></tr>;
        })}</tbody>
      </table>
    </section>
  );
}

function PathOps({ operate }: { operate: boolean }) {
  const q = useQuery<{ paths: Path[] }>(PATHS, {});
  const paths = q.data?.paths ?? [];
  const [sel, setSel] = useState('');
  const [target, setTarget] = useState('');
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<Path | null>(null);
  const [busy, setBusy] = useState(false);
  const cur = paths.find((p) => p.id === sel);
  const alternatives = paths.filter((p) => cur && p.id !== cur.id && p.srcSite?.id === cur.srcSite?.id && p.dstSite?.id === cur.dstSite?.id);
  const check = async () => {
    setBusy(true); setResult(null);
    try { setResult((await gql<{ checkPathHealth: Path }>(CHECK_PATH, { id: sel })).checkPathHealth); }
    catch (e) { notify((e as Error).message, 'error'); } finally { setBusy(false); }
  };
  const failover = async () => {
    if (!cur || !(await confirmAction('Fail over now?', `Flows on ${pathLabel(cur)} move to ${target ? pathLabel(paths.find((p) => p.id === target)!) : 'the best eligible path'}.`, 'Fail over'))) return;
    try { await gql(FAILOVER, { id: sel, target: target || null, reason: reason || null }); notify('Failover requested'); }
    catch (e) { notify((e as Error).message, 'error'); }
  };
  const clearFailover = async () => {
    if (!cur || !(await confirmAction('Clear the failover?', `Traffic at ${cur.srcSite?.name ?? 'the site'} goes back to choosing paths by policy.`, 'Clear failover'))) return;
    try { await gql(CLEAR_FAILOVER, { id: sel }); notify('Failover cleared'); }
    catch (e) { notify((e as Error).message, 'error'); }
  };
  return (
    <section class="panel">
      <h2 style="margin-top:0">Path health and failover</h2>
      <ErrorBanner error={q.error} />
      {!operate && <p class="muted">Checking paths and failing over need the operator role.</p>}
      <form class="form" onSubmit={(e) => { e.preventDefault(); void check(); }} aria-label="Path operations">
        <Field name="path" label="Path"><select id="f-path" value={sel} onChange={(e) => { setSel(e.currentTarget.value); setTarget(''); setResult(null); }}>
          <option value="">choose a path…</option>{paths.map((p) => <option value={p.id}>{pathLabel(p)} ({p.status.toLowerCase()})</option>)}</select></Field>
        {operate && <>
          <Field name="target" label="Fail over to"><select id="f-target" value={target} onChange={(e) => setTarget(e.currentTarget.value)} disabled={!cur}>
            <option value="">best eligible path</option>{alternatives.map((p) => <option value={p.id}>{pathLabel(p)}</option>)}</select></Field>
          <Field name="reason" label="Reason"><input id="f-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} placeholder="maintenance on wan1" /></Field>
          <div class="form-actions">
            <button type="submit" class="primary" disabled={!sel || busy}>{busy ? 'Probing…' : 'Check health now'}</button>
            <button type="button" class="danger" disabled={!sel} onClick={failover}>Fail over…</button>
            <button type="button" disabled={!sel} onClick={clearFailover}>Clear failover…</button>
          </div>
        </>}
      </form>
      {result && (
        <div class="banner ok" data-testid="check-result">
          {pathLabel(result)}: <Badge s={result.status} /> latency {ms(result.metrics?.latency_ms)}, jitter {ms(result.metrics?.jitter_ms)}, loss {pct(result.metrics?.packet_loss_pct)}, score {result.metrics?.score ?? '–'} (measured {ago(result.metrics?.measured_at)})
        </div>
      )}
    </section>
  );
}

function Audit() {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [severity, setSeverity] = useState('');
  const [since, setSince] = useState('');
  const [page, setPage] = useState(0);
  const size = 50;
  const filter = { actor: actor || null, action: action || null, severity: severity || null, since: since ? new Date(since).toISOString() : null };
  const q = useQuery<{ auditLog: { total: number; entries: AuditEntry[] } }>(AUDIT, { f: filter, page: { limit: size, offset: page * size } });
  const total = q.data?.auditLog.total ?? 0;
  return (
    <section class="panel">
      <h2 style="margin-top:0">Audit log</h2>
      <form class="form" onSubmit={(e) => e.preventDefault()} aria-label="Audit filters">
        <Field name="actor" label="Actor"><input id="f-actor" value={actor} onInput={(e) => { setActor(e.currentTarget.value); setPage(0); }} placeholder="admin" /></Field>
        <Field name="action" label="Action starts with"><input id="f-action" value={action} onInput={(e) => { setAction(e.currentTarget.value); setPage(0); }} placeholder="site." /></Field>
        <Field name="severity" label="Severity"><select id="f-severity" value={severity} onChange={(e) => { setSeverity(e.currentTarget.value); setPage(0); }}>
          <option value="">any</option><option value="INFO">info</option><option value="WARNING">warning</option><option value="CRITICAL">critical</option></select></Field>
        <Field name="since" label="Since"><input id="f-since" type="datetime-local" value={since} onInput={(e) => { setSince(e.currentTarget.value); setPage(0); }} /></Field>
      </form>
      <ErrorBanner error={q.error} />
      <table data-testid="audit">
        <thead><tr><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Summary</th><th>Severity</th></tr></thead>
        <tbody>{(q.data?.auditLog.entries ?? []).map((a) => (
          <tr><td>{time(a.at)}</td><td>{a.actor}</td><td><code>{a.action}</code></td><td>{a.targetType} <code>{a.targetId.slice(0, 12)}</code></td>
            <td style="white-space:normal">{a.summary}</td><td>{a.severity.toLowerCase()}</td></tr>))}</tbody>
      </table>
      <div class="row" style="margin-top:.5rem"><span class="muted">{total} entries</span><span class="spacer" />
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Newer</button>
        <button type="button" disabled={(page + 1) * size >= total} onClick={() => setPage(page + 1)}>Older</button></div>
    </section>
  );
}

const roles: Role[] = ['VIEWER', 'OPERATOR', 'ADMIN'];

function Users() {
  const q = useQuery<{ users: User[] }>(USERS);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const [errs, setErrs] = useState<Record<string, string>>({});
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      await gql(CREATE_USER, { in: { name, password, role } });
      notify(`Created user ${name}`); setName(''); setPassword(''); setErrs({}); await q.reload();
    } catch (x) { setErrs(fieldErrors(x, ['name', 'password', 'role'])); }
  };
  const act = async (fn: () => Promise<unknown>, ok: string) => { try { await fn(); notify(ok); await q.reload(); } catch (e) { notify((e as Error).message, 'error'); } };
  return (
    <section class="panel">
      <h2 style="margin-top:0">Users</h2>
      <ErrorBanner error={q.error} />
      <table data-testid="users">
        <thead><tr><th>Name</th><th>Role</th><th>Active</th><th>Last sign-in</th><th>Actions</th></tr></thead>
        <tbody>{(q.data?.users ?? []).map((u) => (
          <tr><td>{u.name}</td>
            <td><select value={u.role} aria-label={`Role of ${u.name}`} disabled={!u.active}
              onChange={(e) => act(() => gql(UPDATE_USER_ROLE, { id: u.id, role: e.currentTarget.value }), `${u.name} is now ${e.currentTarget.value.toLowerCase()}`)}>
              {roles.map((r) => <option value={r}>{r.toLowerCase()}</option>)}</select></td>
            <td>{u.active ? 'yes' : 'no'}</td><td>{ago(u.lastLogin)}</td>
            <td>{u.active && <button type="button" class="danger" onClick={async () => {
              if (await confirmAction(`Deactivate ${u.name}?`, 'Their sessions and API keys stop working at once.', 'Deactivate')) await act(() => gql(DEACTIVATE_USER, { id: u.id }), `Deactivated ${u.name}`);
            }}>Deactivate</button>}</td></tr>))}</tbody>
      </table>
      <form class="form" onSubmit={create} aria-label="New user" style="margin-top:.75rem">
        <Field name="name" label="New user's name" error={errs.name}><input id="f-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required /></Field>
        <Field name="password" label="Password" error={errs.password}><input id="f-password" type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required /></Field>
        <Field name="role" label="Role" error={errs.role}><select id="f-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>{roles.map((r) => <option value={r}>{r.toLowerCase()}</option>)}</select></Field>
        {errs[''] && <div class="form-error" role="alert">{errs['']}</div>}
        <div class="form-actions"><button type="submit" class="primary">Create user</button></div>
      </form>
    </section>
  );
}

function Keys() {
  const q = useQuery<{ apiKeys: ApiKey[] }>(API_KEYS);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const [secret, setSecret] = useState('');
  const [errs, setErrs] = useState<Record<string, string>>({});
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const d = await gql<{ createApiKey: { key: string } }>(CREATE_API_KEY, { name, role });
      setSecret(d.createApiKey.key); setName(''); setErrs({}); await q.reload();
    } catch (x) { setErrs(fieldErrors(x, ['name', 'role'])); }
  };
  return (
    <section class="panel">
      <h2 style="margin-top:0">API keys</h2>
      <ErrorBanner error={q.error} />
      {secret && <div class="banner ok" role="status">New key — copy it now, it is not shown again: <code data-testid="new-key">{secret}</code></div>}
      <table data-testid="keys">
        <thead><tr><th>Name</th><th>Prefix</th><th>Role</th><th>Created</th><th>Last used</th><th>Actions</th></tr></thead>
        <tbody>{(q.data?.apiKeys ?? []).map((k) => (
          <tr><td>{k.name}</td><td><code>{k.prefix}</code></td><td>{k.role.toLowerCase()}</td><td>{ago(k.createdAt)}</td><td>{ago(k.lastUsed)}</td>
            <td>{k.revokedAt ? <span class="muted">revoked {ago(k.revokedAt)}</span> : <button type="button" class="danger" onClick={async () => {
              if (!(await confirmAction(`Revoke key ${k.name}?`, 'Scripts using it stop working at once.', 'Revoke'))) return;
              try { await gql(REVOKE_API_KEY, { id: k.id }); notify(`Revoked ${k.name}`); await q.reload(); } catch (e) { notify((e as Error).message, 'error'); }
            }}>Revoke</button>}</td></tr>))}</tbody>
      </table>
      <form class="form" onSubmit={create} aria-label="New API key" style="margin-top:.75rem">
        <Field name="keyname" label="Key name" error={errs.name}><input id="f-keyname" value={name} onInput={(e) => setName(e.currentTarget.value)} required /></Field>
        <Field name="keyrole" label="Role" error={errs.role}><select id="f-keyrole" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>{roles.map((r) => <option value={r}>{r.toLowerCase()}</option>)}</select></Field>
        {errs[''] && <div class="form-error" role="alert">{errs['']}</div>}
        <div class="form-actions"><button type="submit" class="primary">Create key</button></div>
      </form>
    </section>
  );
}
