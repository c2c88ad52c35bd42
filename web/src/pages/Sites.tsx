import { useState } from 'preact/hooks';
import { gql } from '../api/client';
import { fieldErrors } from '../api/errors';
import { CREATE_SITE, DELETE_SITE, RESTORE_SITE, SITE_DEPENDENCIES, SITES, UPDATE_SITE } from '../api/queries';
import { can, session } from '../api/session';
import type { Site, SiteDependencies } from '../api/types';
import { Badge, confirmAction, ErrorBanner, Field, notify, Seg, useQuery } from '../components/ui';
import { ago, time } from '../lib/format';
import { useStore } from '../lib/store';
import { dependencySummary } from '../lib/sites';

const siteFields = ['name', 'description', 'status', 'prefixes', 'publicKey'];

export function SitesPage() {
  const role = useStore(session)?.user.role;
  const admin = can.manageSites(role);
  const [tab, setTab] = useState<'live' | 'deleted'>('live');
  const q = useQuery<{ sites: Site[] }>(SITES, { deleted: tab === 'deleted' });
  const [editing, setEditing] = useState<Site | 'new' | null>(null);

  const act = async (fn: () => Promise<unknown>, ok: string) => {
    try { await fn(); notify(ok); await q.reload(); } catch (e) { notify((e as Error).message, 'error'); }
  };
  const remove = async (s: Site, hard: boolean) => {
    let deps: SiteDependencies;
    try {
      deps = (await gql<{ site: { dependencies: SiteDependencies } }>(SITE_DEPENDENCIES, { id: s.id })).site.dependencies;
    } catch (e) { notify((e as Error).message, 'error'); return; }
    const list = dependencySummary(deps);
    const body = (
      <div data-testid="dependencies">
        {list.length ? <><p>{hard ? 'This removes for good, with the site:' : 'The site goes with:'}</p><ul>{list.map((x) => <li>{x}</li>)}</ul></> : <p>The site has nothing depending on it.</p>}
        <p>{hard ? <strong>A hard delete cannot be undone.</strong> : 'It stops carrying traffic and can be restored until its retention period ends.'}</p>
      </div>
    );
    if (await confirmAction(`${hard ? 'Permanently delete' : 'Delete'} site ${s.name}?`, body, hard ? 'Delete for good' : 'Delete'))
      await act(() => gql(DELETE_SITE, { id: s.id, hard }), hard ? `Deleted ${s.name} for good` : `Deleted ${s.name}; it can be restored from Deleted sites`);
  };

  const sites = q.data?.sites ?? [];
  return (
    <div>
      <div class="row"><h1>Sites</h1><span class="spacer" />
        <Seg label="Which sites" value={tab} onChange={setTab} options={[{ value: 'live', label: 'Live' }, { value: 'deleted', label: 'Deleted' }]} />
        {admin && tab === 'live' && <button type="button" class="primary" onClick={() => setEditing('new')}>New site</button>}
      </div>
      <ErrorBanner error={q.error} />
      {editing && <SiteForm site={editing === 'new' ? null : editing} onDone={(ok) => { setEditing(null); if (ok) void q.reload(); }} />}
      <div class="panel">
        <table data-testid="sites">
          <thead><tr><th>Name</th><th>Status</th><th>Description</th><th class="num">Links</th>
            {tab === 'deleted' ? <><th>Deleted</th><th>Purged after</th></> : <th>Updated</th>}{admin && <th>Actions</th>}</tr></thead>
          <tbody>{sites.map((s) => (
            <tr data-site={s.name}>
              <td><a href={`/sites/${s.id}`}>{s.name}</a></td><td><Badge s={s.status} /></td>
              <td style="white-space:normal">{s.description}</td><td class="num">{s.endpointCount}</td>
              {tab === 'deleted' ? <><td>{ago(s.deletedAt)}</td><td>{time(s.purgeAfter)}</td></> : <td>{ago(s.updatedAt)}</td>}
              {admin && <td class="row" style="flex-wrap:nowrap">
                {tab === 'live' && <>
                  <button type="button" onClick={() => setEditing(s)}>Edit</button>
                  <button type="button" class="danger" onClick={() => remove(s, false)}>Delete</button>
                </>}
                {tab === 'deleted' && <button type="button" onClick={() => act(() => gql(RESTORE_SITE, { id: s.id }), `Restored ${s.name}`)}>Restore</button>}
                <button type="button" class="danger" onClick={() => remove(s, true)}>Delete for good</button>
              </td>}
            </tr>))}
          </tbody>
        </table>
        {sites.length === 0 && !q.loading && <p class="muted">{tab === 'deleted' ? 'No deleted sites.' : 'No sites yet.'}</p>}
      </div>
    </div>
  );
}

function SiteForm({ site, onDone }: { site: Site | null; onDone: (ok: boolean) => void }) {
  const [name, setName] = useState(site?.name ?? '');
  const [description, setDescription] = useState(site?.description ?? '');
  const [status, setStatus] = useState<string>(site?.status ?? 'ACTIVE');
  const [prefixes, setPrefixes] = useState((site?.prefixes ?? []).join(', '));
  const [errs, setErrs] = useState<Record<string, string>>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      if (site) await gql(UPDATE_SITE, { in: { id: site.id, name, description, status } });
      else await gql(CREATE_SITE, { in: { name, description, status, prefixes: prefixes.split(/[\s,]+/).filter(Boolean) } });
      notify(site ? `Saved ${name}` : `Created ${name}`);
      onDone(true);
    } catch (x) { setErrs(fieldErrors(x, siteFields)); }
  };
  return (
    <form class="panel form" onSubmit={submit} aria-label={site ? 'Edit site' : 'New site'} data-testid="site-form" onKeyDown={(e) => { if (e.key === 'Escape') onDone(false); }}>
      <h2 style="grid-column:1/-1;margin:0">{site ? `Edit ${site.name}` : 'New site'}</h2>
      <Field name="name" label="Name" error={errs.name}><input id="f-name" name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} autofocus /></Field>
      <Field name="description" label="Description" error={errs.description}><input id="f-description" name="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></Field>
      <Field name="status" label="Status" error={errs.status}><select id="f-status" name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
        <option value="ACTIVE">Active</option><option value="INACTIVE">Inactive</option><option value="DEGRADED">Degraded</option></select></Field>
      {!site && <Field name="prefixes" label="Networks behind the site" error={errs.prefixes} hint="10.1.0.0/16, 10.2.0.0/16">
        <input id="f-prefixes" name="prefixes" value={prefixes} onInput={(e) => setPrefixes(e.currentTarget.value)} /></Field>}
      {errs[''] && <div class="form-error" role="alert">{errs['']}</div>}
      <div class="form-actions"><button class="primary" type="submit">{site ? 'Save' : 'Create'}</button><button type="button" onClick={() => onDone(false)}>Cancel</button></div>
    </form>
  );
}
