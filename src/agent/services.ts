/** The gRPC/Connect services every meshd serves on its API port. */
import type { ConnectRouter } from '@connectrpc/connect';
import { controlPlaneRoutes } from '../control/control-plane-service.ts';
import type { EndpointControl, ModelControlDeps, ModelController } from '../control/model-control.ts';
import type { ControlRecords } from '../control/records-service.ts';
import type { AdmissionPolicy } from '../scoring/admission.ts';
import type { Logger } from '../observability/log.ts';
import { createScoringEngine, type ScoringEngine } from '../scoring/engine.ts';
import { scoringRoutes } from '../scoring/scoring-service.ts';
import { syncEngineWithStore } from '../scoring/store-sync.ts';
import { quarantineRoutes } from '../signal/gpu/quarantine/quarantine-service.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import type { PrefixBlockHub } from '../signal/state/prefix-blocks.ts';
import { statePlaneRoutes } from '../signal/state/state-plane-service.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import type { GpuTelemetryRole } from './gpu-telemetry-role.ts';
import type { NodeDirectory } from './node-directory.ts';

/** What the API services read and act on. */
export interface ApiServiceDeps {
  store: StateStore;
  gpus: GpuStore;
  directory: NodeDirectory;
  nodeId: string;
  /** This node's runtime endpoints, with the gpu role. */
  controller?: ModelController;
  logger?: Logger;
  /** GPU quarantine, where this node runs GPU telemetry. */
  quarantine?: Pick<GpuTelemetryRole, 'quarantine' | 'release'>;
  /**
   * The engine `Scoring` serves: meshd's one engine, which its router decides with too (so both
   * see the same in-flight work). When absent, one with the default profile following `store`.
   */
  scoring?: ScoringEngine;
  /** Admission policy for `Scoring.Admit`, the router's own (`scoring.admission`). */
  admission?: AdmissionPolicy;
  /** This node's engines' KV block sets (gpu role), served by `StatePlane.WatchPrefixBlocks`. */
  prefixBlocks?: PrefixBlockHub;
  /** The control store, its mirror and writer (policies, pins, tenants, drains, events). */
  records: ControlRecords;
  /** TLS options for a forwarded call to node `nodeId` (`security.tls`). */
  linkOptions?: ModelControlDeps['linkOptions'];
}

export function registerApiServices(router: ConnectRouter, deps: ApiServiceDeps): void {
  statePlaneRoutes({
    store: deps.store,
    gpus: deps.gpus,
    nodeId: deps.nodeId,
    logger: deps.logger,
    prefixBlocks: deps.prefixBlocks,
  })(router);
  controlPlaneRoutes({
    nodes: () => deps.directory.nodes(),
    members: () => deps.directory.members(),
    modelStates: () => deps.store.list(),
    nodeId: deps.nodeId,
    controller: deps.controller,
    records: deps.records,
    ...(deps.linkOptions ? { linkOptions: deps.linkOptions } : {}),
  })(router);
  quarantineRoutes({ quarantine: deps.quarantine?.quarantine, release: deps.quarantine?.release })(router);
  scoringRoutes({ engine: deps.scoring ?? storeEngine(deps.store, deps.gpus), admission: deps.admission })(
    router,
  );
}

function storeEngine(store: StateStore, gpus: GpuStore): ScoringEngine {
  const engine = createScoringEngine();
  syncEngineWithStore(engine, store, gpus);
  return engine;
}

/** The runtime scraper's shape, as far as model control needs it. */
interface ScraperLike {
  endpoints(): ReturnType<ModelController['endpoints']>;
  control?(endpointName: string): EndpointControl | undefined;
}

/**
 * The runtime scraper as the ControlPlane's `ModelController`: its endpoints, and the runtime
 * control of each (none until the scraper exposes `control()`: every load then answers
 * `invalid_request`, which is the truth).
 */
export function scraperController(scraper: ScraperLike): ModelController {
  return {
    endpoints: () => scraper.endpoints(),
    control: (name) => scraper.control?.(name),
  };
}
