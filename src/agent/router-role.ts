/**
 * The router role: subscribes to the state streams of its peers (the local gpu role writes to the
 * same store directly), and serves the inference APIs, forwarding to the best endpoint. With one
 * worker the router runs on this thread with meshd's engine; with more, worker threads relay and
 * decide with replicas of that engine kept equal through the node's journal (`router-workers.ts`).
 * Every router thread follows the control plane's routing policy: drains and pins close endpoints
 * in its endpoint gate, forced drains cut its attempts, quotas admit by tenant, SLO policies and
 * tenants' default classes set each request's class settings (`router-policy.ts`).
 */
import { availableParallelism } from 'node:os';
import { createPolicyFeed, type PolicyFeed } from '../control/policy-feed.ts';
import { processClockMs } from '../core/clock.ts';
import type { MeshConfig } from '../core/config.ts';
import { createRouterServer, type DrainReport } from '../data/router-server.ts';
import { createNodeAttempts } from '../data/node-attempts.ts';
import { createQuotaLimiter } from '../data/quota/quota-limiter.ts';
import { createSloRouting } from '../data/slo-rules.ts';
import { createThrottle } from '../data/quota/throttle.ts';
import { createUpstreams } from '../data/upstreams.ts';
import type { MetricsJson } from '../observability/exposition.ts';
import type { Logger } from '../observability/log.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import type { ScoringEngine } from '../scoring/engine.ts';
import type { LocalQuarantine } from '../signal/gpu/quarantine/endpoint-gate.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import type { QuarantineFeed } from '../signal/state/thread-feed.ts';
import type { LinkTls } from '../security/pki/link-tls.ts';
import { createPeerSet, type PeerCompanion, type PeerSet } from './peer-set.ts';
import { apiKeyGateFor, applyRoutingPolicy, QUOTA_EVENT_INTERVAL_MS } from './router-policy.ts';
import { routerSelector } from './router-selector.ts';
import type { DecisionBatch } from './decision-relay.ts';
import type { DecisionRecorder } from '../data/decision-recorder.ts';
import { startRouterWorkers } from './router-workers.ts';
import { runtimeTlsOf, startRouterTls } from './router-tls.ts';

export interface RouterRole {
  url: string;
  /** Threads relaying traffic (1: this one). */
  workers: number;
  /** The GPU nodes it follows: `router.peers`, and those gossip finds (`gossip-peers.ts`). */
  peers: PeerSet;
  /** Graceful drain of the router port (`router.drainTimeoutMs`); the role keeps running. */
  drain(timeoutMs: number): Promise<DrainReport>;
  /** The worker threads' metrics, for `/metrics` to sum with this thread's (none with one worker). */
  workerMetrics(): Promise<MetricsJson[]>;
  /** Requests in flight per endpoint id (every router thread's). */
  inFlight(): Map<string, number>;
  stop(): Promise<void>;
}

/** `router.workers` as a count: `auto` is the cores this process may run on. */
export function routerWorkerCount(workers: MeshConfig['router']['workers']): number {
  return workers === 'auto' ? availableParallelism() : workers;
}

export interface RouterRoleDeps {
  store: StateStore;
  gpus: GpuStore;
  /**
   * meshd's one scoring engine, already following `store`; the Scoring service shares it. With
   * worker threads it is journal participant 0 of `journal` and tracks every open request.
   */
  scoring: ScoringEngine;
  /** The node's journal, when the router runs on worker threads (`routerWorkerCount` > 1). */
  journal?: SharedArrayBuffer;
  metrics: MeshMetrics;
  logger: Logger;
  /** This node's own quarantine, on a gpu node: endpoints on its quarantined GPUs get no traffic. */
  quarantine?: LocalQuarantine & { feed: QuarantineFeed };
  /** Started beside each followed peer's state mirror. */
  peerCompanions?: readonly PeerCompanion[];
  /** The node's TLS: links to peers present its certificate and check theirs (`security.tls`). */
  linkTls?: LinkTls | undefined;
  /** What the control plane asks of routing: drains, pins, quotas, SLO classes. */
  policy?: PolicyFeed;
  /**
   * Routers in the mesh now, this one included (gossip members with role router): each enforces
   * 1/N of every quota. Default 1.
   */
  liveRouters?: () => number;
  /** A request was refused over a tenant's quota; called at most once per tenant+model per 10 s. */
  onQuotaExceeded?: (tenant: string, model: string) => void;
  /**
   * The node's decision ring (the dashboard's decision explorer): this thread records into it,
   * worker threads read its `watchFlag` and post batches that `apply` takes (`decision-relay.ts`).
   */
  decisions?: DecisionRecorder & { watchFlag: SharedArrayBuffer; apply(batch: DecisionBatch): void };
}

export async function startRouterRole(config: MeshConfig, deps: RouterRoleDeps): Promise<RouterRole> {
  const { router } = config;
  const logger = deps.logger.child({ component: 'router' });
  // First: files that do not make a certificate must fail the start before anything follows peers.
  const routerTls = await startRouterTls(config, logger);
  const peers = createPeerSet({
    store: deps.store,
    gpus: deps.gpus,
    logger: deps.logger,
    companions: deps.peerCompanions,
    linkTls: deps.linkTls,
  });
  for (const peer of router.peers) peers.follow(peer.id ?? peer.url, { ...peer, origin: 'config' });
  const policy = deps.policy ?? createPolicyFeed();
  const liveRouters = deps.liveRouters ?? (() => 1);
  const quotaEvents = createThrottle(QUOTA_EVENT_INTERVAL_MS);
  const onQuotaExceeded = (tenant: string, model: string) => {
    if (quotaEvents.pass(`${tenant}\u0000${model}`)) deps.onQuotaExceeded?.(tenant, model);
  };
  // Every stop and failure path runs this: the router port's reloader ends with the peers.
  const stopPeers = () => {
    routerTls?.stop();
    return peers.stop();
  };
  // This thread's selector: it routes with one worker, and with more it still answers the
  // in-flight gauge from this thread's replica.
  const selector = routerSelector(config, {
    engine: deps.scoring,
    store: deps.store,
    gpus: deps.gpus,
    quarantine: deps.quarantine,
    rules: policy,
    decisions: deps.decisions,
  });
  deps.metrics.setInFlightSource(() => selector.inFlightByEndpoint());

  const workers = routerWorkerCount(router.workers);
  if (workers > 1) {
    if (!deps.journal) throw new Error('a router on worker threads needs the node journal');
    const pool = await startRouterWorkers({
      count: workers,
      config,
      journal: deps.journal,
      engine: deps.scoring,
      state: { store: deps.store, gpus: deps.gpus, quarantined: deps.quarantine?.feed },
      policy,
      liveRouters,
      onQuotaExceeded,
      decisions: deps.decisions,
      logger,
      ...(routerTls ? { tls: routerTls } : {}),
    }).catch(async (err: unknown) => {
      selector.stop();
      await stopPeers();
      throw err;
    });
    return {
      url: pool.url,
      workers,
      peers,
      drain: (timeoutMs) => pool.drain(timeoutMs),
      workerMetrics: () => pool.metricsJson(),
      inFlight: () => selector.inFlightByEndpoint(),
      async stop() {
        await pool.stop();
        selector.stop();
        await stopPeers();
      },
    };
  }

  const upstreams = createUpstreams({
    connections: router.connectionsPerEndpoint,
    tls: runtimeTlsOf(config),
    headersTimeoutMs: router.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: router.upstreamBodyTimeoutMs,
  });
  const attempts = createNodeAttempts();
  const quota = createQuotaLimiter({ liveRouters, now: processClockMs });
  const slo = createSloRouting(router.hedging);
  const apiKeys = apiKeyGateFor(config);
  const unfollow = applyRoutingPolicy(policy, { attempts, quota, slo, apiKeys });
  const server = await createRouterServer({
    host: router.listen.host,
    port: router.listen.port,
    ...(routerTls ? { tls: routerTls.current() } : {}),
    backlog: router.listenBacklog,
    maxBodyBytes: router.maxBodyBytes,
    retries: router.retries,
    hedging: router.hedging,
    decider: selector,
    upstreams,
    metrics: deps.metrics,
    logger,
    quota,
    apiKeys,
    onQuotaExceeded,
    attempts,
    slo,
  }).catch(async (err: unknown) => {
    unfollow();
    selector.stop();
    await stopPeers();
    throw err;
  });
  routerTls?.onChange((tls) => server.setTls(tls));
  return {
    url: server.url,
    workers: 1,
    peers,
    drain: (timeoutMs) => server.drain(timeoutMs),
    workerMetrics: async () => [],
    inFlight: () => selector.inFlightByEndpoint(),
    async stop() {
      await server.close();
      unfollow();
      selector.stop();
      await stopPeers();
      await upstreams.close();
    },
  };
}
