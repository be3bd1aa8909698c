/**
 * The router role: subscribes to the state streams of its peers (the local gpu role writes to the
 * same store directly), and serves the OpenAI API, forwarding to the best endpoint.
 */
import type { MeshConfig } from '../core/config.ts';
import { createEndpointSelector } from '../data/endpoint-selector.ts';
import type { ScoringEngine } from '../scoring/engine.ts';
import { createRouterServer, type RouterServer } from '../data/router-server.ts';
import { createUpstreams } from '../data/upstreams.ts';
import type { Logger } from '../observability/log.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import { createRemoteStateSubscriber, type RemoteStateSubscriber } from '../signal/state/remote-state.ts';
import { createEndpointGpuGate, type LocalQuarantine } from '../signal/gpu/quarantine/endpoint-gate.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import type { StateStore } from '../signal/state/state-store.ts';

export interface RouterRole {
  server: RouterServer;
  peers: Array<{ id?: string; url: string; subscriber: RemoteStateSubscriber }>;
  stop(): Promise<void>;
}

export async function startRouterRole(
  config: MeshConfig,
  deps: {
    store: StateStore;
    /** meshd's one scoring engine, already following `store`; the Scoring service shares it. */
    scoring: ScoringEngine;
    metrics: MeshMetrics;
    logger: Logger;
    /**
     * GPU states (peers' are mirrored into it too) and endpoint → GPU UUIDs: endpoints on a
     * quarantined GPU get no traffic. `quarantine`: this node's own registry, on a gpu node.
     */
    gpus?: GpuStore;
    endpointGpus?: ReadonlyMap<string, readonly string[]>;
    quarantine?: LocalQuarantine;
  },
): Promise<RouterRole> {
  const { router } = config;
  const peers = router.peers.map((peer) => ({
    ...peer,
    subscriber: createRemoteStateSubscriber({
      url: peer.url,
      store: deps.store,
      gpus: deps.gpus,
      logger: deps.logger.child({ component: 'state-subscriber', peer: peer.id ?? peer.url }),
    }),
  }));
  for (const peer of peers) peer.subscriber.start();

  const upstreams = createUpstreams({
    connections: router.connectionsPerEndpoint,
    headersTimeoutMs: router.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: router.upstreamBodyTimeoutMs,
  });
  const server = await createRouterServer({
    host: router.listen.host,
    port: router.listen.port,
    maxBodyBytes: router.maxBodyBytes,
    retries: router.retries,
    selector: createEndpointSelector(deps.store, {
      engine: deps.scoring,
      admission: config.scoring.admission,
      isEndpointQuarantined: deps.gpus
        ? createEndpointGpuGate(deps.gpus, deps.endpointGpus, deps.quarantine)
        : undefined,
    }),
    upstreams,
    metrics: deps.metrics,
    logger: deps.logger.child({ component: 'router' }),
  });
  return {
    server,
    peers,
    async stop() {
      await server.close();
      await Promise.all(peers.map((p) => p.subscriber.stop()));
      await upstreams.close();
    },
  };
}
