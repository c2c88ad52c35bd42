// A small history router: the page is a function of location.pathname.

import { Store } from './store';

export const route = new Store<string>(globalThis.location?.pathname ?? '/');

globalThis.addEventListener?.('popstate', () => route.set(location.pathname));

/** navigate moves to path without reloading the page. */
export function navigate(path: string, replace = false): void {
  if (path === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route.set(location.pathname);
  globalThis.scrollTo?.(0, 0);
}

/** match returns the parameters of pattern (/sites/:id) in path, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return out;
}

/** onLinkClick makes a plain <a href> navigate inside the app. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as HTMLElement).closest?.('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('/api/')) return;
  e.preventDefault();
  navigate(href);
}
