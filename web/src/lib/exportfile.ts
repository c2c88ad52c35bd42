// Helpers for the statistics export form.

/** localInput formats a Date for <input type="datetime-local">. */
export function localInput(d: Date): string {
  const z = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
  return z.toISOString().slice(0, 16);
}

/** exportName is the file name a download is saved under. */
export function exportName(format: string, from: Date, to: Date): string {
  const f = (d: Date) => d.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `patronus-stats-${f(from)}-${f(to)}.${format}`;
}

