/**
 * The mechanism both state stores share: frozen records by key, and synchronous change events to
 * watchers. The model store and the GPU store add only their keys, filters and order.
 */

export type StoreEvent<T> = { type: 'upsert'; state: T } | { type: 'remove'; state: T };
export type StoreListener<T> = (event: StoreEvent<T>) => void;

export interface KeyedStore<T> {
  /** Inserts or replaces the record under `key` (stored as given: freeze it first) and notifies. */
  set(key: string, state: T): void;
  /** Removes one record and notifies; returns whether it existed. */
  delete(key: string): boolean;
  get(key: string): T | undefined;
  values(): T[];
  /** Calls `listener` for every later change; returns the unsubscribe function. */
  watch(listener: StoreListener<T>): () => void;
}

export function createKeyedStore<T>(): KeyedStore<T> {
  const records = new Map<string, T>();
  const listeners = new Set<StoreListener<T>>();
  const emit = (event: StoreEvent<T>) => {
    for (const listener of listeners) listener(event);
  };
  return {
    set(key, state) {
      records.set(key, state);
      emit({ type: 'upsert', state });
    },
    delete(key) {
      const state = records.get(key);
      if (state === undefined) return false;
      records.delete(key);
      emit({ type: 'remove', state });
      return true;
    },
    get: (key) => records.get(key),
    values: () => [...records.values()],
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
