// Errors from the API, with the code and field the server attaches.

/** ApiError is one GraphQL error, or a transport failure (code NETWORK). */
export class ApiError extends Error {
  readonly code: string;
  readonly field: string | null;
  constructor(message: string, code: string, field: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field;
  }
}

interface GqlError { message?: string; extensions?: { code?: string; field?: string } }

/** firstError turns a GraphQL response's errors into an ApiError, or null. */
export function firstError(errors: GqlError[] | undefined | null): ApiError | null {
  if (!errors || errors.length === 0) return null;
  const e = errors[0];
  return new ApiError(cleanMessage(e.message ?? 'request failed'), e.extensions?.code ?? 'INTERNAL', e.extensions?.field ?? null);
}

/**
 * cleanMessage drops the prefix gqlgen's error formatting adds ("input:",
 * the line and column, and for a field error the field's path), which says
 * where in the query the error arose: useful to a programmer, noise to an
 * operator. A field error always has a location, so the path is dropped
 * only after one.
 */
export function cleanMessage(m: string): string {
  const pre = /^input(:\d+:\d+)?:\s*/.exec(m);
  if (!pre) return m;
  const rest = m.slice(pre[0].length);
  return pre[1] ? rest.replace(/^[A-Za-z_][\w.]*\s+/, '') : rest;
}

/**
 * fieldKey maps a server field name (policy.priority, match.destPort,
 * action.sla.maxLatencyMs, input.name) to a form's field key: the last
 * segment, which is what the forms name their inputs.
 */
export function fieldKey(serverField: string | null | undefined): string | null {
  if (!serverField) return null;
  const parts = serverField.split('.');
  return parts[parts.length - 1] || null;
}

/**
 * fieldErrors gives the message for one form field, or for the form as a
 * whole (key "") when the error names no field the form has.
 */
export function fieldErrors(err: unknown, formFields: readonly string[]): Record<string, string> {
  if (!(err instanceof ApiError)) return { '': err instanceof Error ? err.message : String(err) };
  const key = fieldKey(err.field);
  if (key && formFields.includes(key)) {
    // Beside its field, "policy.match.destPort 99999 is out of range"
    // reads better without the field's name.
    const m = err.field && err.message.startsWith(`${err.field} `) ? err.message.slice(err.field.length + 1) : err.message;
    return { [key]: m };
  }
  return { '': err.message };
}
