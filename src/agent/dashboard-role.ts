/**
 * The live fleet dashboard on the metrics port (`/ui`): the fleet hub over this node's stores,
 * directory, quarantine and router (`src/observability/fleet-view/`), the node's decision ring
 * (which the router role feeds, `decision-relay.ts` for worker threads), the control events, and
 * the control API's authentication when it is on (role viewer or above; read-only).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readEvents } from '../control/events.ts';
import type { ControlRecords } from '../control/records-service.ts';
import type { MeshConfig } from '../core/config.ts';
import { MeshError } from '../core/errors.ts';
import { MESH_VERSION } from '../core/version.ts';
import type { Logger } from '../observability/log.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import { createUiBundle } from '../observability/fleet-view/bundle.ts';
import type { DecisionRing } from '../observability/fleet-view/decision-ring.ts';
import { createFleetHub, type FleetHub } from '../observability/fleet-view/fleet-hub.ts';
import { createSeriesSampler } from '../observability/fleet-view/series.ts';
import { createUiHandler, type UiAuthorize } from '../observability/fleet-view/ui-server.ts';
import type { Authenticator } from '../security/auth/authenticator.ts';
import { satisfies } from '../security/auth/roles.ts';
import type { Quarantine } from '../signal/gpu/quarantine/manager.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import { endpointGpusFromConfig } from './endpoint-gpus.ts';
import type { NodeDirectory } from './node-directory.ts';
import type { RouterRole } from './router-role.ts';

export interface DashboardRole {
  hub: FleetHub;
  /** The metrics server's extra routes: true when it answered. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  stop(): void;
}

export interface DashboardDeps {
  store: StateStore;
  gpus: GpuStore;
  metrics: MeshMetrics;
  decisions: DecisionRing;
  directory: NodeDirectory;
  records: ControlRecords;
  authenticator: Authenticator;
  router?: RouterRole;
  quarantine?: Quarantine;
  logger: Logger;
}

export function startDashboard(config: MeshConfig, deps: DashboardDeps): DashboardRole {
  const { router, quarantine } = deps;
  const logger = deps.logger.child({ component: 'dashboard' });
  const hub = createFleetHub({
    sources: {
      node: config.node.id,
      nodes: () => deps.directory.nodes(),
      models: () => deps.store.list(),
      gpus: () => deps.gpus.list(),
      ...(quarantine ? { quarantined: () => quarantine.list() } : {}),
      ...(router ? { inFlight: () => router.inFlight() } : {}),
      endpointGpus: endpointGpusFromConfig(config),
    },
    decisions: deps.decisions,
    sampler: createSeriesSampler({
      // The router families of this thread and of every worker thread: what /metrics sums.
      read: async () => [
        [await deps.metrics.requests.get(), await deps.metrics.ttft.get()],
        ...(router ? await router.workerMetrics() : []),
      ],
    }),
    async followEvents(onEvent, signal) {
      const q = { sinceRevision: 0, types: [], signal };
      for await (const e of readEvents(deps.records.store, { ...q, follow: true })) onEvent(e);
    },
    version: MESH_VERSION,
    logger,
  });
  const handle = createUiHandler({
    hub,
    bundle: createUiBundle(),
    ...(deps.authenticator.enabled ? { authorize: viewerCheck(deps.authenticator) } : {}),
  });
  return { hub, handle, stop: () => hub.stop() };
}

/** The control API's authentication, and at least role viewer (a node identity is no viewer). */
function viewerCheck(authenticator: Authenticator): UiAuthorize {
  return async (authorization, remoteAddress) => {
    const principal = await authenticator.authenticate(authorization, { remoteAddress });
    if (!satisfies(principal.roles, 'viewer')) {
      throw new MeshError('permission_denied', `the dashboard needs role viewer; ${principal.name} has none`);
    }
  };
}
