import { Store } from '../lib/store';
import { subscribe } from './client';
import { SUB_EVENTS } from './queries';
import { session } from './session';
import type { LiveEvent } from './types';

const MAX = 200;

/** events is the newest events the controller published, newest first. */
export const events = new Store<LiveEvent[]>([]);

let stop: (() => void) | null = null;

/** pushEvent adds an event to a feed, newest first, keeping at most max. */
export function pushEvent(list: LiveEvent[], e: LiveEvent, max = MAX): LiveEvent[] {
  const out = [e, ...list];
  if (out.length > max) out.length = max;
  return out;
}

// The feed runs while someone is signed in. PATH_METRICS is left out: it
// arrives for every probe report and would drown the feed.
const kinds = ['SITE_CREATED', 'SITE_UPDATED', 'SITE_DELETED', 'SITE_SOFT_DELETED', 'SITE_RESTORED', 'ENDPOINT_CHANGED',
  'PATH_CHANGED', 'PATH_STATE', 'PATH_FAILOVER', 'POLICY_CHANGED', 'POLICY_DELETED', 'AUDIT', 'ALERT', 'CACHE_CLEARED', 'USER_CHANGED'];

function start(): void {
  stop?.();
  stop = subscribe<{ events: LiveEvent }>(SUB_EVENTS, { kinds },
    (d) => events.update((l) => pushEvent(l, d.events)));
}

let startedFor: string | null = null;
session.subscribe((s) => {
  const who = s?.user.name ?? null;
  if (who === startedFor) return;
  startedFor = who;
  events.set([]);
  if (s) start(); else { stop?.(); stop = null; }
});
if (session.get()) { startedFor = session.get()!.user.name; start(); }
