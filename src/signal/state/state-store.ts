/**
 * The fused state store of the signal plane: adapters put `ModelState` records in, the StatePlane
 * API and the router read snapshots and watch changes. One record per (endpoint, model).
 */
import type { ModelState } from '../../core/types.ts';
import { createKeyedStore, type StoreEvent, type StoreListener } from './keyed-store.ts';

export type StateEvent = StoreEvent<ModelState>;
export type StateListener = StoreListener<ModelState>;

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
  const store = createKeyedStore<ModelState>();
  const remove = (endpointId: string, model: string) => store.delete(keyOf(endpointId, model));
  return {
    upsert(state) {
      store.set(keyOf(state.endpointId, state.model), Object.freeze({ ...state }));
    },
    remove,
    removeEndpoint(endpointId) {
      for (const state of store.values())
        if (state.endpointId === endpointId) remove(endpointId, state.model);
    },
    get: (endpointId, model) => store.get(keyOf(endpointId, model)),
    list: (filter = {}) => store.values().filter((s) => matchesFilter(s, filter)),
    watch: (listener) => store.watch(listener),
  };
}
