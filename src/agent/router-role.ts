/**
 * The router role: subscribes to the state streams of its peers (the local gpu role writes to the
 * same store directly), and serves the inference APIs, forwarding to the best endpoint. With one
 * worker the router runs on this thread; with more, worker threads relay and this thread's
 * selector decides for all of them (`router-workers.ts`).
 */
import { availableParallelism } from 'node:os';
import type { MeshConfig } from '../core/config.ts';
import { createEndpointSelector } from '../data/endpoint-selector.ts';
import { createRouterServer, type DrainReport } from '../data/router-server.ts';
import { createUpstreams } from '../data/upstreams.ts';
import type { Logger } from '../observability/log.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import type { ScoringEngine } from '../scoring/engine.ts';
import { createEndpointGpuGate, type LocalQuarantine } from '../signal/gpu/quarantine/endpoint-gate.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import { createRemoteStateSubscriber, type RemoteStateSubscriber } from '../signal/state/remote-state.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import type { MetricsJson } from '../observability/exposition.ts';
import { startRouterWorkers } from './router-workers.ts';

export interface RouterRole {
  url: string;
  /** Threads relaying traffic (1: this one). */
  workers: number;
  peers: Array<{ id?: string; url: string; subscriber: RemoteStateSubscriber }>;
  /** Requests in flight. */
  active(): number;
  /** Graceful drain of the router port (`router.drainTimeoutMs`); the role keeps running. */
  drain(timeoutMs: number): Promise<DrainReport>;
  /** The worker threads' metrics, for `/metrics` to sum with this thread's (none with one worker). */
  workerMetrics(): Promise<MetricsJson[]>;
  stop(): Promise<void>;
}

/** `router.workers` as a count: `auto` is the cores this process may run on. */
export function routerWorkerCount(workers: MeshConfig['router']['workers']): number {
  return workers === 'auto' ? availableParallelism() : workers;
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
  const logger = deps.logger.child({ component: 'router' });
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
  const selector = createEndpointSelector(deps.store, {
    engine: deps.scoring,
    admission: config.scoring.admission,
    isEndpointQuarantined: deps.gpus
      ? createEndpointGpuGate(deps.gpus, deps.endpointGpus, deps.quarantine)
      : undefined,
  });
  deps.metrics.setInFlightSource(() => selector.inFlightByEndpoint());
  const stopPeers = () => Promise.all(peers.map((p) => p.subscriber.stop()));

  const workers = routerWorkerCount(router.workers);
  if (workers > 1) {
    const pool = await startRouterWorkers({ count: workers, config, selector, logger }).catch(
      async (err: unknown) => {
        await stopPeers();
        throw err;
      },
    );
    return {
      url: pool.url,
      workers,
      peers,
      active: () => pool.active(),
      drain: (timeoutMs) => pool.drain(timeoutMs),
      workerMetrics: () => pool.metricsJson(),
      async stop() {
        await pool.stop();
        await stopPeers();
      },
    };
  }

  const upstreams = createUpstreams({
    connections: router.connectionsPerEndpoint,
    headersTimeoutMs: router.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: router.upstreamBodyTimeoutMs,
  });
  const server = await createRouterServer({
    host: router.listen.host,
    port: router.listen.port,
    backlog: router.listenBacklog,
    maxBodyBytes: router.maxBodyBytes,
    retries: router.retries,
    decider: selector,
    upstreams,
    metrics: deps.metrics,
    logger,
  }).catch(async (err: unknown) => {
    await stopPeers();
    throw err;
  });
  return {
    url: server.url,
    workers: 1,
    peers,
    active: () => server.active(),
    drain: (timeoutMs) => server.drain(timeoutMs),
    workerMetrics: async () => [],
    async stop() {
      await server.close();
      await stopPeers();
      await upstreams.close();
    },
  };
}
