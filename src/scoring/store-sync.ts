/**
 * Keeps an engine's fleet in step with the state stores: every model-state upsert refreshes the
 * endpoint's view (scraped state changes once per scrape, not per request), every removal forgets
 * it, and each endpoint's view carries the state of the GPU it runs on (quarantine, VRAM, MIG).
 */
import type { GpuState } from '../core/gpu.ts';
import type { ModelState } from '../core/types.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import type { ScoringEngine } from './engine.ts';

/**
 * Loads the stores' records into `engine` and follows their changes; returns the unsubscribe
 * function. Without `gpus`, views carry no GPU state (GPU filters pass, GPU scorers are neutral).
 */
export function syncEngineWithStore(engine: ScoringEngine, store: StateStore, gpus?: GpuStore): () => void {
  const attachGpu = (s: ModelState) => {
    if (gpus && s.gpuUuids?.length) engine.fleet.setGpu(s.endpointId, gpuOf(s, gpus));
  };
  const stopModels = store.watch((event) => {
    if (event.type === 'upsert') {
      engine.fleet.upsert(event.state);
      attachGpu(event.state);
    } else engine.forget(event.state.endpointId, event.state.model);
  });
  for (const s of store.list()) {
    engine.fleet.upsert(s);
    attachGpu(s);
  }
  // A GPU reading changes the view of every endpoint on that GPU.
  const stopGpus = gpus?.watch(({ state: gpu }) => {
    for (const s of store.list({ node: gpu.node })) if (s.gpuUuids?.includes(gpu.uuid)) attachGpu(s);
  });
  return () => {
    stopModels();
    stopGpus?.();
  };
}

/**
 * The one GPU state that speaks for an endpoint spread over several GPUs (tensor parallel): an
 * unhealthy one if any (one bad GPU stalls them all), else the one with the least free memory.
 */
function gpuOf(s: ModelState, gpus: GpuStore): GpuState | undefined {
  let chosen: GpuState | undefined;
  for (const uuid of s.gpuUuids ?? []) {
    const gpu = gpus.get(s.node, uuid);
    if (!gpu) continue;
    if (!gpu.healthy) return gpu;
    if (!chosen || freeBytes(gpu) < freeBytes(chosen)) chosen = gpu;
  }
  return chosen;
}

const freeBytes = (g: GpuState) => (g.memoryTotalBytes ?? Infinity) - (g.memoryUsedBytes ?? 0);
