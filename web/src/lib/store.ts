import { useEffect, useState } from 'preact/hooks';

/** Store is a value that components and modules can watch. */
export class Store<T> {
  private value: T;
  private readonly listeners = new Set<(v: T) => void>();

  constructor(initial: T) { this.value = initial; }

  get(): T { return this.value; }

  set(v: T): void {
    if (Object.is(v, this.value)) return;
    this.value = v;
    for (const l of [...this.listeners]) l(v);
  }

  update(fn: (v: T) => T): void { this.set(fn(this.value)); }

  subscribe(l: (v: T) => void): () => void {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  }
}

/** useStore re-renders the component whenever the store changes. */
export function useStore<T>(s: Store<T>): T {
  const [v, setV] = useState(s.get());
  useEffect(() => {
    setV(s.get());
    return s.subscribe(setV);
  }, [s]);
  return v;
}
