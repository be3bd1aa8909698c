/**
 * Endpoints → GPUs: the predicate the router's endpoint selector takes to leave out an endpoint
 * whose GPU is quarantined (or lost). An endpoint's GPUs come from its `ModelState.gpuUuids`, or
 * from the local config's `gpus` lists; their state from the GPU store, which holds this node's
 * telemetry and what peers report. A MIG instance is out when its parent GPU is.
 */
import type { GpuState } from '../../../core/gpu.ts';
import type { ModelState } from '../../../core/types.ts';
import type { GpuStore } from '../../state/gpu-store.ts';

/** Whether a stored GPU is out of service: quarantined, or reported unhealthy (lost) by its source. */
export const isGpuOut = (g: GpuState | undefined): boolean =>
  g !== undefined && (!g.healthy || g.quarantineReason !== undefined);

/** The predicate for `createEndpointSelector`. `endpointGpus`: endpoint id → GPU UUIDs from config. */
export function createEndpointGpuGate(
  gpus: Pick<GpuStore, 'get'>,
  endpointGpus: ReadonlyMap<string, readonly string[]> = new Map(),
): (state: ModelState) => boolean {
  return (state) => {
    const uuids = state.gpuUuids ?? endpointGpus.get(state.endpointId);
    if (!uuids || uuids.length === 0) return false;
    return uuids.some((uuid) => {
      const g = gpus.get(state.node, uuid);
      return isGpuOut(g) || (g?.parentUuid !== undefined && isGpuOut(gpus.get(state.node, g.parentUuid)));
    });
  };
}
