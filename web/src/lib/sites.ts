import type { SiteDependencies } from '../api/types';

/** dependencySummary lists what a delete takes with it, for the prompt. */
export function dependencySummary(d: SiteDependencies): string[] {
  const items: [number, string, string][] = [
    [d.endpoints, 'WAN link', 'WAN links'], [d.paths, 'path', 'paths'], [d.metrics, 'path measurement', 'path measurements'],
    [d.pathEvents, 'path event', 'path events'], [d.policyStats, 'statistics snapshot', 'statistics snapshots'], [d.credentials, 'site credential', 'site credentials'],
  ];
  return items.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
}

