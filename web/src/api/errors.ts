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
 * cleanMessage drops gqlgen's "input: path:" prefix, which says where in
 * the query the error arose: useful to a programmer, noise to an operator.
 */
export function cleanMessage(m: string): string {
  return m.replace(/^input:\s*(?:[\w.]+:\s*)?/, '');
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
  if (key && formFields.includes(key)) return { [key]: err.message };
  return { '': err.message };
}
