import { Store } from '../lib/store';
import type { Role, Session } from './types';

const KEY = 'patronus.session';

function load(): Session | null {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s && s.token && s.user ? s : null;
  } catch {
    return null;
  }
}

/** session is the signed-in user, kept across reloads in localStorage. */
export const session = new Store<Session | null>(load());

/** expiredMessage is shown on the sign-in page after a session ends by itself. */
export const expiredMessage = new Store<string>('');

session.subscribe((s) => {
  try {
    if (s) globalThis.localStorage?.setItem(KEY, JSON.stringify(s));
    else globalThis.localStorage?.removeItem(KEY);
  } catch { /* private mode: the session lasts for this page */ }
});

const rank: Record<Role, number> = { VIEWER: 1, OPERATOR: 2, ADMIN: 3, EDGE: 0 };

/** atLeast reports whether role is at least want (viewer < operator < admin). */
export function atLeast(role: Role | undefined | null, want: Role): boolean {
  if (!role) return false;
  return rank[role] >= rank[want];
}

/** Actions the screens offer, by the least role the server demands for them. */
export const can = {
  editPolicies: (r?: Role | null) => atLeast(r, 'OPERATOR'),
  operate: (r?: Role | null) => atLeast(r, 'OPERATOR'),
  manageSites: (r?: Role | null) => atLeast(r, 'ADMIN'),
  admin: (r?: Role | null) => atLeast(r, 'ADMIN'),
};

/**
 * renewDelay is how long to wait before renewing a session expiring at
 * expiresAt: a minute early, or with a fifth of the time left when that is
 * less, and never less than a second.
 */
export function renewDelay(expiresAt: string, now: number): number {
  const left = Date.parse(expiresAt) - now;
  if (!Number.isFinite(left)) return 1000;
  return Math.max(1000, left - 60_000, left * 0.8);
}
