/**
 * The GPU half of the fused state: telemetry sources (NVML, dcgm-exporter, nvidia-smi, rocm-smi,
 * the simulator) and external reporters put `GpuState` records in; the StatePlane API, the router
 * and the scoring filters read snapshots and watch changes. One record per (node, GPU uuid), the
 * same shape as the model `StateStore`.
 */
import type { GpuState } from '../../core/gpu.ts';
import { createKeyedStore, type StoreEvent, type StoreListener } from './keyed-store.ts';

export type GpuStateEvent = StoreEvent<GpuState>;
export type GpuStateListener = StoreListener<GpuState>;

export interface GpuStateFilter {
  node?: string;
  /** Only GPUs `isGpuHealthy` accepts. */
  healthyOnly?: boolean;
}

export interface GpuStore {
  /** Inserts or replaces the record for (node, uuid) and notifies watchers. */
  upsert(state: GpuState): void;
  /** Removes one record; returns whether it existed. */
  remove(node: string, uuid: string): boolean;
  /** Removes every record of a node (its telemetry source stopped, or the peer went away). */
  removeNode(node: string): void;
  get(node: string, uuid: string): GpuState | undefined;
  /** Matching records, sorted by node then index then uuid (MIG instances after their parent). */
  list(filter?: GpuStateFilter): GpuState[];
  /** Calls `listener` for every later change; returns the unsubscribe function. */
  watch(listener: GpuStateListener): () => void;
}

/**
 * Whether a GPU can take work: `healthy` (not quarantined or lost), no uncorrected ECC errors
 * since the driver loaded, and no hardware slowdown (`hw_*` reasons). Software power capping under
 * load is normal and does not count, or a busy GPU would look broken.
 */
export function isGpuHealthy(state: GpuState): boolean {
  if (!state.healthy) return false;
  if ((state.eccVolatileUncorrected ?? 0) > 0) return false;
  return !(state.throttleReasons ?? []).some((r) => r.startsWith('hw_'));
}

/** Whether a record passes a filter (empty filter fields match everything). */
export function matchesGpuFilter(state: GpuState, filter: GpuStateFilter): boolean {
  if (filter.node && state.node !== filter.node) return false;
  if (filter.healthyOnly && !isGpuHealthy(state)) return false;
  return true;
}

const keyOf = (node: string, uuid: string) => `${node}\u0000${uuid}`;

/** Stable order for lists and snapshots: node, then device index, then uuid. */
export function compareGpuStates(a: GpuState, b: GpuState): number {
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  if (a.index !== b.index) return a.index - b.index;
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

/** Creates an empty GPU store. Records are frozen copies; listeners run synchronously. */
export function createGpuStore(): GpuStore {
  const store = createKeyedStore<GpuState>();
  const remove = (node: string, uuid: string) => store.delete(keyOf(node, uuid));
  return {
    upsert(state) {
      const frozen = Object.freeze({
        ...state,
        ...(state.throttleReasons ? { throttleReasons: Object.freeze([...state.throttleReasons]) } : {}),
      }) as GpuState;
      store.set(keyOf(state.node, state.uuid), frozen);
    },
    remove,
    removeNode(node) {
      for (const state of store.values()) if (state.node === node) remove(node, state.uuid);
    },
    get: (node, uuid) => store.get(keyOf(node, uuid)),
    list: (filter = {}) =>
      store
        .values()
        .filter((s) => matchesGpuFilter(s, filter))
        .sort(compareGpuStates),
    watch: (listener) => store.watch(listener),
  };
}
