import { useEffect, useState } from 'preact/hooks';
import { linkState, login, logout } from './api/client';
import { expiredMessage, session } from './api/session';
import './api/live';
import { ConfirmHost, Field, notice } from './components/ui';
import { match, navigate, onLinkClick, route } from './lib/router';
import { useStore } from './lib/store';
import { theme } from './lib/theme';
import { Overview } from './pages/Overview';
import { TopologyPage } from './pages/Topology';
import { SitePage } from './pages/Site';
import { PoliciesPage } from './pages/Policies';
import { PathsPage } from './pages/Paths';
import { StatsPage } from './pages/Stats';
import { SitesPage } from './pages/Sites';
import { OpsPage } from './pages/Ops';

const nav: { href: string; label: string }[] = [
  { href: '/', label: 'Overview' },
  { href: '/topology', label: 'Topology' },
  { href: '/policies', label: 'Policies' },
  { href: '/paths', label: 'Paths' },
  { href: '/stats', label: 'Statistics' },
  { href: '/sites', label: 'Sites' },
  { href: '/ops', label: 'Operations' },
];

function Page({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/' || path === '') return <Overview />;
  if (path === '/topology') return <TopologyPage />;
  if ((m = match('/sites/:id', path))) return <SitePage id={m.id} />;
  if (path === '/sites') return <SitesPage />;
  if (path === '/policies') return <PoliciesPage />;
  if (path === '/paths') return <PathsPage />;
  if (path === '/stats') return <StatsPage />;
  if (path === '/ops') return <OpsPage />;
  return <div><h1>Not found</h1><p>No page at <code>{path}</code>. <a href="/">Go to the overview</a>.</p></div>;
}

function current(href: string, path: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(href + '/');
}

export function App() {
  const s = useStore(session);
  const path = useStore(route);
  const link = useStore(linkState);
  const t = useStore(theme);
  const note = useStore(notice);

  useEffect(() => {
    document.addEventListener('click', onLinkClick);
    return () => document.removeEventListener('click', onLinkClick);
  }, []);
  useEffect(() => {
    const label = nav.find((n) => current(n.href, path))?.label ?? 'Patronus';
    document.title = `${label} · Patronus`;
  }, [path]);

  if (!s) return <Login />;

  return (
    <div class="shell">
      <nav class="nav" aria-label="Main">
        <div class="brand"><img src="/favicon.svg" alt="" width="22" height="22" />Patronus</div>
        {nav.map((n) => <a href={n.href} aria-current={current(n.href, path) ? 'page' : undefined}>{n.label}</a>)}
        <div class="me">
          <span data-testid="whoami">{s.user.name} · {s.user.role.toLowerCase()}</span>
          <div class="row">
            <button type="button" onClick={() => theme.set(t === 'dark' ? 'light' : 'dark')} aria-label="Switch colour theme">
              {t === 'dark' ? 'Light' : 'Dark'}
            </button>
            <button type="button" onClick={() => { void logout(); navigate('/'); }}>Sign out</button>
          </div>
        </div>
      </nav>
      <main>
        {link === 'disconnected' && (
          <div class="banner warn" role="status" data-testid="disconnected">
            Live updates are disconnected from the controller; reconnecting… Figures on this page may be stale.
          </div>
        )}
        {note && <div class={`banner ${note.kind}`} role="status" data-testid="notice">{note.text}</div>}
        <Page path={path} />
      </main>
      <ConfirmHost />
    </div>
  );
}

function Login() {
  const expired = useStore(expiredMessage);
  const [u, setU] = useState('');
  const [p, setP] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setErr('');
    try {
      await login(u.trim(), p);
    } catch (x) {
      setErr((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1><img src="/favicon.svg" alt="" width="26" height="26" style="vertical-align:-5px;margin-right:.4rem" />Patronus</h1>
      {expired && <div class="banner warn" role="alert" data-testid="expired">{expired}</div>}
      <form class="panel" onSubmit={submit} aria-label="Sign in">
        <Field name="username" label="User name">
          <input id="f-username" name="username" autocomplete="username" value={u} onInput={(e) => setU(e.currentTarget.value)} required autofocus />
        </Field>
        <Field name="password" label="Password">
          <input id="f-password" name="password" type="password" autocomplete="current-password" value={p} onInput={(e) => setP(e.currentTarget.value)} required />
        </Field>
        {err && <div class="form-error" role="alert" data-testid="login-error">{err}</div>}
        <button class="primary" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
