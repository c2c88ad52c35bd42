import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { gql, reconnects } from '../api/client';
import { Store, useStore } from '../lib/store';

/** useQuery runs a query when its variables change and offers a reload. */
export function useQuery<T>(query: string, vars?: Record<string, unknown>, opts: { skip?: boolean } = {}) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(!opts.skip);
  const key = JSON.stringify(vars ?? {});
  const seq = useRef(0);
  const reload = useCallback(async () => {
    if (opts.skip) return;
    const my = ++seq.current;
    setLoading(true);
    try {
      const d = await gql<T>(query, vars);
      if (my === seq.current) { setData(d); setError(null); }
    } catch (e) {
      if (my === seq.current) setError(e as Error);
    } finally {
      if (my === seq.current) setLoading(false);
    }
  }, [query, key, opts.skip]);
  useEffect(() => { void reload(); }, [reload]);
  // After the live connection comes back, what was missed is fetched anew.
  useEffect(() => reconnects.subscribe(() => { void reload(); }), [reload]);
  return { data, error, loading, reload, setData };
}

/** usePoll calls fn every ms while the component is mounted and the tab visible. */
export function usePoll(fn: () => void, ms: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const t = setInterval(() => { if (document.visibilityState === 'visible') ref.current(); }, ms);
    return () => clearInterval(t);
  }, [ms]);
}

export function Badge({ s }: { s: string }) {
  return <span class={`badge s-${s}`} data-status={s}>{s.toLowerCase()}</span>;
}

export function Card({ label, value, testid }: { label: string; value: ComponentChildren; testid?: string }) {
  return <div class="card" data-testid={testid}><div class="l">{label}</div><div class="v">{value}</div></div>;
}

export function ErrorBanner({ error }: { error: Error | null }) {
  if (!error) return null;
  return <div class="banner error" role="alert">{error.message}</div>;
}

/** Field is a labelled input with its error beneath, linked for screen readers. */
export function Field(props: {
  name: string; label: string; error?: string; children: ComponentChildren; hint?: string;
}) {
  const errId = `${props.name}-err`;
  return (
    <div class={`field${props.error ? ' invalid' : ''}`} data-field={props.name}>
      <label for={`f-${props.name}`}>{props.label}</label>
      {props.children}
      {props.hint && !props.error && <span class="muted" style="font-size:.78rem">{props.hint}</span>}
      {props.error && <span class="err" id={errId} role="alert">{props.error}</span>}
    </div>
  );
}

/** Seg is a segmented choice (ranges, tabs). */
export function Seg<T extends string>({ value, options, onChange, label }: {
  value: T; options: { value: T; label: string }[]; onChange: (v: T) => void; label: string;
}) {
  return (
    <div class="seg" role="group" aria-label={label}>
      {options.map((o) => (
        <button type="button" aria-pressed={o.value === value} onClick={() => onChange(o.value)}>{o.label}</button>
      ))}
    </div>
  );
}

// Confirmation dialogs, rendered once by the app shell.
interface ConfirmReq {
  title: string; body: ComponentChildren; confirm: string; danger?: boolean; resolve: (ok: boolean) => void;
}
const confirmReq = new Store<ConfirmReq | null>(null);

/** confirmAction asks the user to confirm and resolves to their answer. */
export function confirmAction(title: string, body: ComponentChildren, confirm = 'Confirm', danger = true): Promise<boolean> {
  return new Promise((resolve) => confirmReq.set({ title, body, confirm, danger, resolve }));
}

export function ConfirmHost() {
  const req = useStore(confirmReq);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (req && !d.open) d.showModal();
    if (!req && d.open) d.close();
  }, [req]);
  const answer = (ok: boolean) => { req?.resolve(ok); confirmReq.set(null); };
  return (
    <dialog ref={ref} onCancel={(e) => { e.preventDefault(); answer(false); }} aria-labelledby="confirm-title" data-testid="confirm">
      {req && <>
        <h2 id="confirm-title" style="margin-top:0">{req.title}</h2>
        <div>{req.body}</div>
        <div class="row" style="margin-top:1rem;justify-content:flex-end">
          <button type="button" onClick={() => answer(false)} autofocus>Cancel</button>
          <button type="button" class={req.danger ? 'danger' : 'primary'} onClick={() => answer(true)} data-testid="confirm-ok">{req.confirm}</button>
        </div>
      </>}
    </dialog>
  );
}

// Notices: short messages after an action.
export const notice = new Store<{ text: string; kind: 'ok' | 'error' } | null>(null);
let noticeTimer: ReturnType<typeof setTimeout> | undefined;
export function notify(text: string, kind: 'ok' | 'error' = 'ok'): void {
  notice.set({ text, kind });
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => notice.set(null), 6000);
}
