// The policy form's values and their conversion to the API's inputs.

import type { Policy } from '../api/types';

export interface PolicyForm {
  name: string; description: string; priority: string; enabled: boolean;
  protocol: string; sourceIp: string; destIp: string; sourcePort: string; destPort: string;
  kind: 'STEER' | 'DROP'; preference: '' | 'BEST_QUALITY' | 'LOWEST_COST' | 'LINK'; link: string;
  maxLatencyMs: string; maxJitterMs: string; maxLossPct: string;
}

/** The form's field keys, which server field errors are matched against. */
export const policyFields = ['name', 'description', 'priority', 'enabled', 'protocol', 'sourceIp', 'destIp', 'sourcePort', 'destPort',
  'kind', 'preference', 'link', 'maxLatencyMs', 'maxJitterMs', 'maxLossPct'] as const;

export function emptyPolicy(priority: number): PolicyForm {
  return { name: '', description: '', priority: String(priority), enabled: true, protocol: '', sourceIp: '', destIp: '', sourcePort: '', destPort: '',
    kind: 'STEER', preference: 'BEST_QUALITY', link: '', maxLatencyMs: '', maxJitterMs: '', maxLossPct: '' };
}

export function fromPolicy(p: Policy): PolicyForm {
  const m = p.matchCriteria, a = p.actions;
  const n = (v: number) => (v ? String(v) : '');
  return {
    name: p.name, description: p.description, priority: String(p.priority), enabled: p.enabled,
    protocol: m.protocol ?? '', sourceIp: m.sourceIp ?? '', destIp: m.destIp ?? '', sourcePort: m.sourcePort ?? '', destPort: m.destPort ?? '',
    kind: a.kind, preference: (a.preference ?? '') as PolicyForm['preference'], link: a.link ?? '',
    maxLatencyMs: n(a.sla.maxLatencyMs), maxJitterMs: n(a.sla.maxJitterMs), maxLossPct: n(a.sla.maxLossPct),
  };
}

/**
 * numberField parses an optional number; an unparseable entry is reported
 * as a field error before the request is sent.
 */
function numberField(v: string, key: string, errs: Record<string, string>): number | undefined {
  const t = v.trim();
  if (t === '') return undefined;
  const n = Number(t);
  if (!Number.isFinite(n)) { errs[key] = 'must be a number'; return undefined; }
  return n;
}

/**
 * toInput converts the form to CreatePolicyInput (or UpdatePolicyInput
 * with id). Empty text means "any" and is sent as null, so the server
 * clears it on update. Validation beyond number syntax is the server's.
 */
export function toInput(f: PolicyForm, id?: string): { input: Record<string, unknown>; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const priority = numberField(f.priority, 'priority', errors);
  if (f.priority.trim() === '') errors.priority = 'is required';
  else if (priority !== undefined && !Number.isInteger(priority)) errors.priority = 'must be a whole number';
  const sla = {
    maxLatencyMs: numberField(f.maxLatencyMs, 'maxLatencyMs', errors) ?? 0,
    maxJitterMs: numberField(f.maxJitterMs, 'maxJitterMs', errors) ?? 0,
    maxLossPct: numberField(f.maxLossPct, 'maxLossPct', errors) ?? 0,
  };
  const opt = (s: string) => (s.trim() === '' ? null : s.trim());
  const input: Record<string, unknown> = {
    name: f.name.trim(),
    description: f.description,
    priority: priority ?? 0,
    enabled: f.enabled,
    match: { protocol: opt(f.protocol), sourceIp: opt(f.sourceIp), destIp: opt(f.destIp), sourcePort: opt(f.sourcePort), destPort: opt(f.destPort) },
    action: f.kind,
    sla,
  };
  if (f.kind === 'STEER') {
    input.preference = f.preference || null;
    input.link = f.preference === 'LINK' ? opt(f.link) : null;
  }
  if (id) input.id = id;
  return { input, errors };
}

/**
 * reorder moves the policy at index i by delta places (-1 up, +1 down) in a
 * list sorted by priority, and returns the priority updates to send in
 * order. Priorities are unique, so the two policies swap through a free
 * priority: a to the free one, b to a's, a to b's.
 */
export function reorder(list: { id: string; priority: number }[], i: number, delta: -1 | 1): { id: string; priority: number }[] {
  const j = i + delta;
  if (j < 0 || j >= list.length) return [];
  const a = list[i], b = list[j];
  const used = new Set(list.map((p) => p.priority));
  let free = Math.max(...used) + 1;
  if (free > 1_000_000) { free = 0; while (used.has(free)) free++; }
  return [{ id: a.id, priority: free }, { id: b.id, priority: a.priority }, { id: a.id, priority: b.priority }];
}
