/**
 * The fused state store of the signal plane: adapters put `ModelState` records in, the StatePlane
 * API and the router read snapshots and watch changes. One record per (endpoint, model).
 */
import type { ModelState } from '../../core/types.ts';

export type StateEvent = { type: 'upsert'; state: ModelState } | { type: 'remove'; state: ModelState };
export type StateListener = (event: StateEvent) => void;

export interface ModelStateFilter {
  model?: string;
  runtime?: string;
  node?: string;
  loadedOnly?: boolean;
}

export interface StateStore {
  /** Inserts or replaces the record for (endpointId, model) and notifies watchers. */
  upsert(state: ModelState): void;
  /** Removes one record; returns whether it existed. */
  remove(endpointId: string, model: string): boolean;
  /** Removes every record of an endpoint (it went away or was reconfigured). */
  removeEndpoint(endpointId: string): void;
  get(endpointId: string, model: string): ModelState | undefined;
  list(filter?: ModelStateFilter): ModelState[];
  /** Calls `listener` for every later change; returns the unsubscribe function. */
  watch(listener: StateListener): () => void;
}

const keyOf = (endpointId: string, model: string) => `${endpointId}\u0000${model}`;

export function matchesFilter(state: ModelState, filter: ModelStateFilter): boolean {
  if (filter.model && state.model !== filter.model) return false;
  if (filter.runtime && state.runtime !== filter.runtime) return false;
  if (filter.node && state.node !== filter.node) return false;
  if (filter.loadedOnly && !state.loaded) return false;
  return true;
}

export function createStateStore(): StateStore {
  const records = new Map<string, ModelState>();
  const listeners = new Set<StateListener>();
  const emit = (event: StateEvent) => {
    for (const listener of listeners) listener(event);
  };

  const remove = (endpointId: string, model: string): boolean => {
    const key = keyOf(endpointId, model);
    const state = records.get(key);
    if (!state) return false;
    records.delete(key);
    emit({ type: 'remove', state });
    return true;
  };

  return {
    upsert(state) {
      const frozen = Object.freeze({ ...state });
      records.set(keyOf(state.endpointId, state.model), frozen);
      emit({ type: 'upsert', state: frozen });
    },
    remove,
    removeEndpoint(endpointId) {
      for (const state of [...records.values()])
        if (state.endpointId === endpointId) remove(endpointId, state.model);
    },
    get: (endpointId, model) => records.get(keyOf(endpointId, model)),
    list: (filter = {}) => [...records.values()].filter((s) => matchesFilter(s, filter)),
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
