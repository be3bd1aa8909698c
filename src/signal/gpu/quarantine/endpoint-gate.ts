/**
 * Endpoints → GPUs: the predicate the router's endpoint selector takes to leave out an endpoint
 * whose GPU is quarantined (or lost). An endpoint's GPUs come from its `ModelState.gpuUuids`
 * (which travels with the state, so it is known for peers' endpoints too), or from the local
 * config's `gpus` lists; their state from the GPU store, which holds this node's telemetry and
 * the GPU states mirrored from peers (`WatchGpuStates`), where the GPU node marks a quarantined
 * GPU `healthy: false`. A MIG instance is out when its parent GPU is.
 */
import type { GpuState } from '../../../core/gpu.ts';
import type { ModelState } from '../../../core/types.ts';
import type { GpuStore } from '../../state/gpu-store.ts';
import type { QuarantineFeed } from '../../state/thread-feed.ts';
import type { Quarantine } from './manager.ts';

/** Whether a stored GPU is out of service: quarantined, or reported unhealthy (lost) by its source. */
const isGpuOut = (g: GpuState | undefined): boolean =>
  g !== undefined && (!g.healthy || g.quarantineReason !== undefined);

/** This node's own quarantine bookkeeping, for a router that runs on a gpu node. */
export interface LocalQuarantine {
  node: string;
  /** Whether the node's quarantine holds the GPU (until an operator releases it). */
  isQuarantined(uuid: string): boolean;
}

/**
 * `LocalQuarantine` of this node's quarantine registry, with the `feed` that keeps router worker
 * threads' copies of it current (`thread-feed.ts`).
 */
export function localQuarantine(
  node: string,
  quarantine: Pick<Quarantine, 'get' | 'list' | 'events'>,
): LocalQuarantine & { feed: QuarantineFeed } {
  return {
    node,
    isQuarantined: (uuid) => quarantine.get(uuid) !== undefined,
    feed: {
      list: () => quarantine.list().map((e) => e.uuid),
      onChange(listener) {
        quarantine.events.on('quarantined', listener);
        quarantine.events.on('released', listener);
        return () => {
          quarantine.events.off('quarantined', listener);
          quarantine.events.off('released', listener);
        };
      },
    },
  };
}

/**
 * The predicate for `createEndpointSelector`. `endpointGpus`: endpoint id → GPU UUIDs from config.
 * `local`: on a gpu node its own registry wins over the store for its GPUs, so a reporter pushing
 * `healthy: true` cannot bring a quarantined GPU back; only a release can.
 */
export function createEndpointGpuGate(
  gpus: Pick<GpuStore, 'get'>,
  endpointGpus: ReadonlyMap<string, readonly string[]> = new Map(),
  local?: LocalQuarantine,
): (state: ModelState) => boolean {
  const out = (node: string, uuid: string): boolean =>
    (node === local?.node && local.isQuarantined(uuid)) || isGpuOut(gpus.get(node, uuid));
  return (state) => {
    const uuids = state.gpuUuids ?? endpointGpus.get(state.endpointId);
    if (!uuids || uuids.length === 0) return false;
    return uuids.some((uuid) => {
      const parent = gpus.get(state.node, uuid)?.parentUuid;
      return out(state.node, uuid) || (parent !== undefined && out(state.node, parent));
    });
  };
}
