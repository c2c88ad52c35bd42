import { createClient, type Client } from 'graphql-ws';
import { Store } from '../lib/store';
import { ApiError, firstError } from './errors';
import { LOGIN, LOGOUT, RENEW } from './queries';
import { expiredMessage, renewDelay, session } from './session';
import type { Session } from './types';

const EXPIRED = 'Your session expired. Sign in again to continue.';

/** endSession signs the user out locally, with a reason for the sign-in page. */
export function endSession(reason = ''): void {
  expiredMessage.set(reason);
  session.set(null);
}

/** gql sends a query or mutation and returns its data, or throws an ApiError. */
export async function gql<T>(query: string, variables?: Record<string, unknown>, token = session.get()?.token): Promise<T> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError('The controller cannot be reached. Is it running?', 'NETWORK');
  }
  let body: { data?: T; errors?: { message?: string; extensions?: { code?: string; field?: string } }[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The controller answered ${res.status} ${res.statusText}`, 'NETWORK');
  }
  const err = firstError(body.errors);
  if (err) {
    if (err.code === 'UNAUTHENTICATED' && token && session.get()?.token === token) endSession(EXPIRED);
    throw err;
  }
  return body.data as T;
}

/** login signs in and starts the session. */
export async function login(username: string, password: string): Promise<Session> {
  const d = await gql<{ login: Session }>(LOGIN, { u: username, p: password }, undefined);
  expiredMessage.set('');
  session.set(d.login);
  return d.login;
}

/** logout revokes the user's tokens (best effort) and ends the session. */
export async function logout(): Promise<void> {
  try { await gql(LOGOUT); } catch { /* the token may already be gone */ }
  endSession('');
}

// Renewal: keep the session alive while the page is open.
let renewTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleRenew(s: Session | null): void {
  clearTimeout(renewTimer);
  if (!s) return;
  renewTimer = setTimeout(async () => {
    const cur = session.get();
    if (!cur || cur.token !== s.token) return;
    try {
      const d = await gql<{ renewToken: Session }>(RENEW, { t: cur.renewalToken }, undefined);
      session.set(d.renewToken);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'NETWORK') { scheduleRenew(cur); return; }
      endSession(EXPIRED);
    }
  }, renewDelay(s.expiresAt, Date.now()));
}

/** Live connection state, for the disconnected banner. */
export type LinkState = 'connecting' | 'connected' | 'disconnected';
export const linkState = new Store<LinkState>('connecting');

/**
 * reconnects counts the times the live connection came back after being
 * lost; pages reload their queries when it changes, since events sent
 * while disconnected are gone.
 */
export const reconnects = new Store<number>(0);

let ws: Client | null = null;

function wsURL(): string {
  const l = globalThis.location;
  return `${l.protocol === 'https:' ? 'wss' : 'ws'}://${l.host}/graphql`;
}

function openSocket(): Client {
  const client = createClient({
    url: wsURL(),
    connectionParams: () => ({ Authorization: `Bearer ${session.get()?.token ?? ''}` }),
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    // Back off 0.5 s, 1 s, 2 s … up to 10 s, with jitter.
    retryWait: (n) => new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** n) * (0.75 + Math.random() / 2))),
    on: {
      connecting: () => { if (linkState.get() !== 'disconnected') linkState.set('connecting'); },
      connected: () => {
        if (linkState.get() === 'disconnected') reconnects.update((n) => n + 1);
        linkState.set('connected');
      },
      closed: () => linkState.set('disconnected'),
      error: () => linkState.set('disconnected'),
    },
  });
  return client;
}

session.subscribe((s) => {
  scheduleRenew(s);
  // A new sign-in (not a renewal of the same user) gets a fresh socket; a
  // renewal keeps the open one, which was authenticated when it started.
  if (!s) {
    ws?.dispose(); ws = null;
    return;
  }
  if (!ws) ws = openSocket();
});
scheduleRenew(session.get());

/**
 * subscribe starts a GraphQL subscription and calls onData for each
 * result; the returned function stops it. It survives reconnects: the
 * client resubscribes when the socket comes back.
 */
export function subscribe<T>(query: string, variables: Record<string, unknown> | undefined, onData: (d: T) => void): () => void {
  if (!ws && session.get()) ws = openSocket();
  if (!ws) return () => {};
  return ws.subscribe<T>({ query, variables }, {
    next: (r) => { if (r.data) onData(r.data as T); },
    error: () => { /* the socket's own handlers show the state */ },
    complete: () => {},
  });
}
