/**
 * The precomputed per-endpoint views the engine scores: one mutable `EndpointView` per
 * (endpoint, model), updated when state arrives (not per request), and a dense array per model
 * so a decision is one pass over plain objects.
 */
import type { GpuState } from '../core/gpu.ts';
import type { ModelState } from '../core/types.ts';
import { viewKey } from './journal/events.ts';
import type { EndpointView } from './types.ts';

export interface Fleet {
  /** Inserts or refreshes the view of `state`; router-side counters survive a refresh. */
  upsert(state: ModelState): EndpointView;
  /** Removes the view of (endpointId, model); returns it, if it existed. */
  remove(endpointId: string, model: string): EndpointView | undefined;
  /** Attaches the GPU an endpoint runs on (VRAM, MIG, quarantine). */
  setGpu(endpointId: string, gpu: GpuState | undefined): void;
  /** Views serving `model`, in a stable order. Do not mutate the array. */
  forModel(model: string): readonly EndpointView[];
  get(endpointId: string, model: string): EndpointView | undefined;
  /** The view of a journal key (`viewKey(endpointId, model)`). */
  getByKey(key: string): EndpointView | undefined;
  all(): EndpointView[];
  models(): string[];
}

const keyOf = viewKey;

/**
 * `zoneOf(node)` maps a node to its zone for network cost ('' when unknown); `now` is the engine's
 * clock, which stamps when each state arrived.
 */
export function createFleet(
  zoneOf: (node: string) => string = () => '',
  now: () => number = () => Number.NaN,
): Fleet {
  const views = new Map<string, EndpointView>();
  const byModel = new Map<string, EndpointView[]>();
  const gpus = new Map<string, GpuState>();
  let nextIndex = 0;
  const free: number[] = [];

  const derive = (v: EndpointView, s: ModelState) => {
    v.state = s;
    v.rateCell = undefined; // the GPU type may have changed: the engine looks its rate up again
    v.zone = zoneOf(s.node);
    const gpu = gpus.get(s.endpointId);
    if (gpu) v.gpu = gpu;
    // Capacity facts the runtime states once; keep the last known when a scrape omits them.
    if (s.batchFullness && s.batchFullness > 0 && s.running)
      v.maxBatch = Math.round(s.running / s.batchFullness);
    if (s.kvBlocksTotal && s.kvBlockSize) v.kvTokens = s.kvBlocksTotal * s.kvBlockSize;
  };

  return {
    upsert(state) {
      const key = keyOf(state.endpointId, state.model);
      let v = views.get(key);
      if (!v) {
        v = {
          index: free.pop() ?? nextIndex++,
          endpointId: state.endpointId,
          state,
          zone: '',
          inFlight: 0,
          inFlightTokens: 0,
          busyUntilMs: 0,
          awaitingFirst: 0,
          stateAt: Number.NaN,
          observedP95Ms: Number.NaN,
          e2eMs: Number.NaN,
          prefixMatch: 0,
          prefixEpoch: -1,
          prefixBlocks: 0,
          maxBatch: 0,
          kvTokens: 0,
          rateCell: undefined,
        };
        views.set(key, v);
        let list = byModel.get(state.model);
        if (!list) byModel.set(state.model, (list = []));
        list.push(v);
      }
      derive(v, state);
      v.stateAt = now();
      return v;
    },
    remove(endpointId, model) {
      const key = keyOf(endpointId, model);
      const v = views.get(key);
      if (!v) return undefined;
      views.delete(key);
      const list = byModel.get(model) ?? [];
      const i = list.indexOf(v);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) byModel.delete(model);
      free.push(v.index);
      return v;
    },
    setGpu(endpointId, gpu) {
      if (gpu) gpus.set(endpointId, gpu);
      else gpus.delete(endpointId);
      for (const v of views.values()) {
        if (v.endpointId !== endpointId) continue;
        if (gpu) v.gpu = gpu;
        else delete v.gpu;
      }
    },
    forModel: (model) => byModel.get(model) ?? [],
    get: (endpointId, model) => views.get(keyOf(endpointId, model)),
    getByKey: (key) => views.get(key),
    all: () => [...views.values()],
    models: () => [...byModel.keys()].sort(),
  };
}
