import { describe, expect, it } from 'vitest';
import { ApiError, cleanMessage, fieldErrors, fieldKey, firstError } from './errors';
import { exportURL } from './queries';
import { atLeast, can, renewDelay } from './session';
import { emptyPolicy, fromPolicy, policyFields, reorder, toInput } from '../lib/policyForm';
import type { Policy } from './types';

describe('errors', () => {
  it.each([
    ['input:1:50: createPolicy policy.match.destPort "99999" is out of range 1-65535', 'policy.match.destPort "99999" is out of range 1-65535'],
    ['input:2:3: sites.0.name not found', 'not found'],
    ['input: unauthenticated: sign in first', 'unauthenticated: sign in first'],
    ['plain message', 'plain message'],
  ])('cleanMessage(%s)', (m, want) => expect(cleanMessage(m)).toBe(want));
  it.each([
    ['policy.match.destPort', 'destPort'], ['action.sla.maxLatencyMs', 'maxLatencyMs'], ['name', 'name'], [null, null], ['', null],
  ])('fieldKey(%s) = %s', (f, want) => expect(fieldKey(f)).toBe(want));
  it('firstError keeps code and field', () => {
    const e = firstError([{ message: 'input:1:10: createPolicy bad', extensions: { code: 'BAD_INPUT', field: 'policy.priority' } }])!;
    expect([e.message, e.code, e.field]).toEqual(['bad', 'BAD_INPUT', 'policy.priority']);
    expect(firstError([])).toBeNull();
    expect(firstError([{}])!.code).toBe('INTERNAL');
  });
  it('fieldErrors puts the message on the form field, or on the form', () => {
    const fields = ['name', 'destPort'];
    expect(fieldErrors(new ApiError('too big', 'BAD_INPUT', 'policy.match.destPort'), fields)).toEqual({ destPort: 'too big' });
    expect(fieldErrors(new ApiError('policy.match.destPort "0" is out of range', 'BAD_INPUT', 'policy.match.destPort'), fields)).toEqual({ destPort: '"0" is out of range' });
    expect(fieldErrors(new ApiError('taken', 'CONFLICT', 'policy.priority'), fields)).toEqual({ '': 'taken' });
    expect(fieldErrors(new ApiError('no', 'FORBIDDEN'), fields)).toEqual({ '': 'no' });
    expect(fieldErrors(new Error('boom'), fields)).toEqual({ '': 'boom' });
  });
});

describe('roles', () => {
  it.each([
    ['VIEWER', 'VIEWER', true], ['VIEWER', 'OPERATOR', false], ['OPERATOR', 'OPERATOR', true], ['ADMIN', 'OPERATOR', true],
    ['OPERATOR', 'ADMIN', false], ['EDGE', 'VIEWER', false], [null, 'VIEWER', false],
  ] as const)('atLeast(%s, %s) = %s', (r, w, want) => expect(atLeast(r, w)).toBe(want));
  it('screens by role', () => {
    expect([can.editPolicies('VIEWER'), can.editPolicies('OPERATOR'), can.manageSites('OPERATOR'), can.manageSites('ADMIN'), can.admin('ADMIN')])
      .toEqual([false, true, false, true, true]);
  });
  it.each([
    [15 * 60_000, 14 * 60_000], // a minute early
    [60_000, 48_000], // four fifths of a short session
    [500, 1000], // never sooner than a second
    [-5000, 1000],
  ])('renewDelay with %d ms left = %d', (left, want) => {
    const now = Date.UTC(2026, 0, 1);
    expect(renewDelay(new Date(now + left).toISOString(), now)).toBe(want);
  });
});

describe('policy form', () => {
  it('sends empty match fields as null and SLA blanks as 0', () => {
    const f = { ...emptyPolicy(100), name: ' voice ', protocol: 'udp', destPort: '5060', maxLatencyMs: '150' };
    const { input, errors } = toInput(f);
    expect(errors).toEqual({});
    expect(input).toEqual({
      name: 'voice', description: '', priority: 100, enabled: true,
      match: { protocol: 'udp', sourceIp: null, destIp: null, sourcePort: null, destPort: '5060' },
      action: 'STEER', preference: 'BEST_QUALITY', link: null, sla: { maxLatencyMs: 150, maxJitterMs: 0, maxLossPct: 0 },
    });
  });
  it('reports number syntax on the field before sending', () => {
    expect(toInput({ ...emptyPolicy(1), priority: '1.5' }).errors).toEqual({ priority: 'must be a whole number' });
    expect(toInput({ ...emptyPolicy(1), priority: '' }).errors).toEqual({ priority: 'is required' });
    expect(toInput({ ...emptyPolicy(1), maxLossPct: 'lots' }).errors).toEqual({ maxLossPct: 'must be a number' });
  });
  it('drops have no path preference; updates carry the id', () => {
    const { input } = toInput({ ...emptyPolicy(5), name: 'x', kind: 'DROP' }, 'id-1');
    expect(input.preference).toBeUndefined();
    expect(input.id).toBe('id-1');
    expect(toInput({ ...emptyPolicy(5), preference: 'LINK', link: 'wan2' }).input.link).toBe('wan2');
  });
  it('round-trips a policy through the form', () => {
    const p: Policy = {
      id: 'p', name: 'web', description: 'd', priority: 7, enabled: false, packets_matched: '0', bytes_matched: '0', active_flows: '0',
      matchCriteria: { protocol: 'tcp', sourceIp: null, destIp: '10.0.0.0/8', sourcePort: null, destPort: '443' },
      actions: { kind: 'STEER', preference: 'LINK', link: 'wan1', sla: { maxLatencyMs: 100, maxJitterMs: 0, maxLossPct: 1 } },
    };
    const { input } = toInput(fromPolicy(p), p.id);
    expect(input).toMatchObject({ id: 'p', name: 'web', priority: 7, enabled: false, preference: 'LINK', link: 'wan1',
      match: { protocol: 'tcp', destIp: '10.0.0.0/8', destPort: '443', sourceIp: null }, sla: { maxLatencyMs: 100, maxJitterMs: 0, maxLossPct: 1 } });
  });
  it('every form field is a key server errors can name', () => {
    for (const k of Object.keys(emptyPolicy(0))) expect(policyFields).toContain(k);
  });
  it('reorders through a free priority, as priorities are unique', () => {
    const list = [{ id: 'a', priority: 10 }, { id: 'b', priority: 20 }, { id: 'c', priority: 30 }];
    expect(reorder(list, 1, -1)).toEqual([{ id: 'b', priority: 31 }, { id: 'a', priority: 20 }, { id: 'b', priority: 10 }]);
    expect(reorder(list, 0, -1)).toEqual([]);
    expect(reorder(list, 2, 1)).toEqual([]);
    const full = [{ id: 'a', priority: 0 }, { id: 'b', priority: 1_000_000 }];
    expect(reorder(full, 1, -1)[0]).toEqual({ id: 'b', priority: 1 });
  });
});

describe('export URL', () => {
  it('carries the range and filters', () => {
    const u = new URL(exportURL('csv', new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z'), 'p1', '*'), 'http://x');
    expect(u.pathname).toBe('/api/v1/stats/export');
    expect(Object.fromEntries(u.searchParams)).toEqual({ format: 'csv', from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z', policy: 'p1', site: '*' });
  });
});
