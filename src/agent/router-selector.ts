/**
 * The router's endpoint selector as every router thread builds it: the thread's scoring engine
 * (the main thread's, or a worker's replica of it) over that thread's stores, with the node's
 * admission policy and one endpoint gate: GPUs out of service (config `gpus` lists, the GPU store,
 * this node's quarantine) and the control plane's drains and pins.
 */
import type { MeshConfig } from '../core/config.ts';
import { createEndpointGate } from '../data/endpoint-gate.ts';
import { createEndpointSelector, type EndpointSelector } from '../data/endpoint-selector.ts';
import type { DecisionRecorder } from '../data/decision-recorder.ts';
import type { RoutingRulesFeed } from '../data/routing-rules.ts';
import type { ScoringEngine } from '../scoring/engine.ts';
import { createEndpointGpuGate, type LocalQuarantine } from '../signal/gpu/quarantine/endpoint-gate.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import { endpointGpusFromConfig } from './endpoint-gpus.ts';

export function routerSelector(
  config: MeshConfig,
  deps: {
    engine: ScoringEngine;
    store: StateStore;
    gpus: GpuStore;
    quarantine?: LocalQuarantine;
    /** The control plane's routing policy (drains, pins); absent: none. */
    rules?: RoutingRulesFeed;
    /** Where watched decisions go (the dashboard); absent: none are recorded. */
    decisions?: DecisionRecorder;
  },
): EndpointSelector & { stop(): void } {
  const endpointGate = createEndpointGate({
    outOfService: createEndpointGpuGate(deps.gpus, endpointGpusFromConfig(config), deps.quarantine),
    rules: deps.rules,
  });
  const selector = createEndpointSelector(deps.store, {
    engine: deps.engine,
    admission: config.scoring.admission,
    endpointGate,
    ...(deps.decisions ? { decisions: deps.decisions } : {}),
  });
  return { ...selector, stop: endpointGate.stop };
}
