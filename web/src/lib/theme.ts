import { Store } from './store';

export type Theme = 'light' | 'dark';

function initial(): Theme {
  try {
    const saved = globalThis.localStorage?.getItem('patronus.theme');
    if (saved === 'light' || saved === 'dark') return saved;
  } catch { /* ignore */ }
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** theme is the colour scheme; charts read their colours from it. */
export const theme = new Store<Theme>(initial());

function apply(t: Theme): void {
  if (globalThis.document) document.documentElement.dataset.theme = t;
}
apply(theme.get());
theme.subscribe((t) => {
  apply(t);
  try { globalThis.localStorage?.setItem('patronus.theme', t); } catch { /* ignore */ }
});

/** cssVar reads a colour from the stylesheet's custom properties. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
