/**
 * meshd's lifecycle: builds the shared pieces (state store, metrics, logger), starts the roles the
 * config names and the APIs every node serves, and stops them in reverse order. This is the only
 * place that wires the planes together.
 */
import type { MeshConfig } from '../core/config.ts';
import type { DrainReport } from '../data/router-server.ts';
import type { Logger } from '../observability/log.ts';
import { createMeshMetrics } from '../observability/metrics.ts';
import { exposition } from '../observability/exposition.ts';
import { createMetricsServer } from '../observability/metrics-server.ts';
import { startTracing } from '../observability/tracing/provider.ts';
import { createTracingInterceptor } from '../observability/tracing/rpc-interceptor.ts';
import { createDecisionRing } from '../observability/fleet-view/decision-ring.ts';
import { processClockMs } from '../core/clock.ts';
import { createScoringEngine } from '../scoring/engine.ts';
import { createPrecisePrefixIndex } from '../scoring/precise-prefix-index.ts';
import {
  attachSharedJournal,
  createJournalMemory,
  JOURNAL_FOLLOW_MS,
} from '../scoring/journal/shared-journal.ts';
import { localQuarantine } from '../signal/gpu/quarantine/endpoint-gate.ts';
import { engineOptionsFromConfig } from '../scoring/from-config.ts';
import { syncEngineWithStore } from '../scoring/store-sync.ts';
import { createGpuStore, type GpuStore } from '../signal/state/gpu-store.ts';
import { createStateStore, type StateStore } from '../signal/state/state-store.ts';
import { apiKeysRequired } from '../core/config-api-keys.ts';
import { createAuthenticator } from '../security/auth/authenticator.ts';
import { createAuthInterceptor } from '../security/auth/interceptor.ts';
import { checkSecureStart } from '../security/auth/secure-start.ts';
import { createApiServer } from './api-server.ts';
import { startDashboard, type DashboardRole } from './dashboard-role.ts';
import { startNodeTls } from './node-tls.ts';
import { startGpuRole, type GpuRole } from './gpu-role.ts';
import { startGpuTelemetryRole, type GpuTelemetryRole } from './gpu-telemetry-role.ts';
import { recordMembershipEvents, recordQuarantineEvents } from './control-events.ts';
import { startControlRole } from './control-role.ts';
import { followGossip } from './gossip-peers.ts';
import { startPinKeeper } from './pin-keeper.ts';
import { startMembership, type MembershipRole } from './membership-role.ts';
import { createMeshView, type MeshView } from './mesh-view.ts';
import { inFlightShareCompanions } from './in-flight-share.ts';
import { feedLocalPrefixBlocksToEngine, prefixBlocksCompanion } from './prefix-blocks-companion.ts';
import { createNodeDirectory } from './node-directory.ts';
import { routerWorkerCount, startRouterRole, type RouterRole } from './router-role.ts';
import { registerApiServices, scraperController } from './services.ts';

/** A started node: its URLs, its stores, and `stop` (the started parts, in reverse order). */
export interface RunningMeshd {
  nodeId: string;
  routerUrl?: string;
  apiUrl: string;
  metricsUrl: string;
  /** The live fleet dashboard (`/ui` on the metrics port). */
  dashboardUrl: string;
  simulatorUrls: Array<{ name: string; url: string }>;
  store: StateStore;
  /** GPU states: this node's telemetry and what external reporters push. */
  gpus: GpuStore;
  /** GPU telemetry and quarantine, with the gpu role and `gpu.telemetry.source` set. */
  gpuTelemetry?: GpuTelemetryRole;
  /** Threads relaying router traffic (0 without the router role). */
  routerWorkers: number;
  /** This node's gossip address (`host:port`), with `membership.bind` set. */
  gossipAddress?: string;
  /**
   * Graceful stop (SIGTERM/SIGINT): the node turns not-ready, the router stops accepting and lets
   * requests in flight finish for up to `router.drainTimeoutMs`, ends the rest with the protocol's
   * error, then everything stops. Resolves with what the drain saw (none without a router).
   */
  shutdown(): Promise<DrainReport | undefined>;
  stop(): Promise<void>;
}

/** Starts the node the config describes; when a part fails to start, stops the parts already up and rethrows. */
export async function startMeshd(config: MeshConfig, logger: Logger): Promise<RunningMeshd> {
  // The node's certificate first: the API port, the links and the authenticator use it.
  const nodeTls = await startNodeTls(config, logger);
  const linkTls = nodeTls?.link;
  // Before anything listens: a node reachable from the network without authentication does not start.
  const authenticator = createAuthenticator({
    config: config.security.auth,
    ...(linkTls
      ? {
          verifyPeer: (certificate, peer) =>
            linkTls.verifyClient({
              tlsCertificate: certificate,
              authorized: peer.authorized === true,
              authorizationError: peer.authorizationError ?? null,
            }),
        }
      : {}),
  });
  const routerHost = config.router.listen.host;
  try {
    checkSecureStart(
      [
        {
          key: 'api',
          host: config.api.host,
          authenticated: authenticator.enabled,
          authSetting: 'security.auth.jwt or security.tls',
        },
        ...(config.node.roles.some((r) => r === 'router' || r === 'edge')
          ? [
              {
                key: 'router.listen',
                host: routerHost,
                authenticated: apiKeysRequired(config.security.apiKeys, routerHost),
                authSetting: 'security.apiKeys.required',
              },
            ]
          : []),
      ],
      config.security.insecure,
      logger,
    );
  } catch (err) {
    nodeTls?.stop();
    throw err;
  }
  const store = createStateStore();
  const gpus = createGpuStore();
  const metrics = createMeshMetrics({ defaultMetrics: true });
  const roles = new Set(config.node.roles);
  const stops: Array<() => Promise<void>> = [];
  if (nodeTls) stops.push(async () => nodeTls.stop());
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err: unknown) => logger.error({ err }, 'stop step failed'));
  };
  let ready = false;
  let draining = false;
  let router: RouterRole | undefined;
  let membership: MembershipRole | undefined;
  let view: MeshView | undefined;
  let dashboard: DashboardRole | undefined;
  // The router's decisions for the dashboard's explorer: recorded only while someone watches.
  const decisions = createDecisionRing();

  try {
    // First to start, last to stop: the spans of everything else's stop are flushed too (bounded).
    const tracing = await startTracing(config.observability.tracing, { nodeId: config.node.id }, logger);
    if (tracing) stops.push(() => tracing.shutdown());
    const metricsServer = await createMetricsServer({
      ...config.metrics,
      render: () => exposition(metrics.registry, async () => (router ? router.workerMetrics() : [])),
      notReadyReason: () => (draining ? 'draining' : ready ? undefined : 'starting'),
      readyDetail: () => view?.detail() ?? {},
      // `/ui` answers once the node is wired (404 for the few ms before).
      handle: (req, res) => dashboard?.handle(req, res) ?? false,
    });
    stops.push(() => metricsServer.close());

    // The control store first: routing and the gpu role follow its records from the start.
    const control = await startControlRole(config, logger);
    stops.push(() => control.stop());
    const { records, policy, record } = control;

    let gpu: GpuRole | undefined;
    let gpuTelemetry: GpuTelemetryRole | undefined;
    if (roles.has('gpu')) {
      gpu = await startGpuRole(config, { store, metrics, logger });
      stops.push(() => gpu!.stop());
      gpuTelemetry = await startGpuTelemetryRole(config, {
        gpus,
        metrics,
        logger,
        simGpuFault: gpu.gpuFault,
      });
      if (gpuTelemetry) {
        stops.push(() => gpuTelemetry!.stop());
        const unrecord = recordQuarantineEvents(gpuTelemetry.quarantine, record);
        stops.push(async () => unrecord());
      }
    }
    // One engine per node: the router decides with it and the Scoring service serves it, so
    // in-flight work, learned rates and the prefix index are the same for both. A router on worker
    // threads gives each its replica of it, kept equal through one journal in shared memory.
    const routes = roles.has('router') || roles.has('edge');
    const journal =
      routes && routerWorkerCount(config.router.workers) > 1 ? createJournalMemory() : undefined;
    const scoring = createScoringEngine({
      ...engineOptionsFromConfig(config.scoring),
      // What the engines hold (KV events, from this node's gpu role or peers' streams) for profiles
      // with `prefix: 'precise'`.
      precisePrefix: createPrecisePrefixIndex(),
      ...(journal ? { journal: attachSharedJournal(journal, 0), trackOpen: true, now: processClockMs } : {}),
    });
    const unsync = syncEngineWithStore(scoring, store, gpus);
    if (gpu) {
      const stopFeed = feedLocalPrefixBlocksToEngine(gpu.prefixBlocks, scoring);
      stops.push(async () => stopFeed());
    }
    const follow = journal ? setInterval(() => scoring.sync(), JOURNAL_FOLLOW_MS).unref() : undefined;
    stops.push(async () => {
      clearInterval(follow);
      unsync();
    });
    if (routes) {
      router = await startRouterRole(config, {
        store,
        gpus,
        scoring,
        journal,
        metrics,
        logger,
        quarantine: gpuTelemetry && localQuarantine(config.node.id, gpuTelemetry.quarantine),
        linkTls,
        peerCompanions: [
          ...inFlightShareCompanions(config, { engine: scoring, logger, linkTls }),
          prefixBlocksCompanion({ engine: scoring, logger, linkTls }),
        ],
        policy,
        liveRouters: liveRouterCount(() => membership),
        onQuotaExceeded: (tenant, model) => void record('quota_exceeded', { tenant, model }),
        decisions,
      });
      stops.push(() => router!.stop());
    }

    const directory = createNodeDirectory(config, { router });
    dashboard = startDashboard(config, {
      store,
      gpus,
      metrics,
      decisions,
      directory,
      records,
      authenticator,
      router,
      quarantine: gpuTelemetry?.quarantine,
      logger,
    });
    stops.push(async () => dashboard!.stop());
    const api = await createApiServer({
      ...config.api,
      logger: logger.child({ component: 'api' }),
      ...(linkTls ? { tls: linkTls } : {}),
      interceptors: [
        // Outside authentication: refused calls are traced too.
        createTracingInterceptor(),
        createAuthInterceptor({
          authenticator,
          logger,
          // Whose key a RevokeApiKey names, for a tenant-scoped caller: from this node's mirror.
          lookups: { apiKeyTenant: (keyId) => records.view.snapshot().apiKeys.get(keyId)?.tenant },
        }),
      ],
      routes: (r) =>
        registerApiServices(r, {
          store,
          prefixBlocks: gpu?.prefixBlocks,
          gpus,
          directory,
          nodeId: config.node.id,
          controller: gpu ? scraperController(gpu.scraper) : undefined,
          records,
          quarantine: gpuTelemetry,
          scoring,
          admission: config.scoring.admission,
          ...(linkTls ? { linkOptions: (nodeId: string) => linkTls.clientOptions(nodeId) } : {}),
          logger: logger.child({ component: 'api' }),
        }),
    });
    stops.push(() => api.close());
    directory.setApiUrl(api.url);

    // Gossip starts once the API listens, so the address it announces already answers.
    if (config.membership.bind !== undefined) {
      membership = await startMembership(config, {
        store,
        gpus,
        apiUrl: api.url,
        logger,
        // Gossip's TCP channel (push-pull, probe fallback) is mTLS with the node certificate too.
        ...(linkTls ? { tls: linkTls } : {}),
      });
      stops.push(() => membership!.stop());
      directory.setMembership(membership);
      const unrecord = recordMembershipEvents(membership, config.node.id, record);
      stops.push(async () => unrecord());
      if (router) {
        const unfollow = followGossip(membership, router.peers, {
          selfId: config.node.id,
          configuredUrls: config.router.peers.map((p) => p.url),
          logger: logger.child({ component: 'gossip-peers' }),
        });
        stops.push(async () => unfollow());
      }
    }
    if (gpu) {
      const keeper = startPinKeeper({
        nodeId: config.node.id,
        nodes: () => directory.nodes(),
        controller: scraperController(gpu.scraper),
        policy,
        writer: records.writer,
        logger: logger.child({ component: 'pins' }),
      });
      stops.push(async () => keeper.stop());
    }
    // A drain of this node by the control plane shows in its gossip meta too.
    const selfDrained = () => policy.current().drains.some((d) => d.node === config.node.id);
    if (membership) {
      membership.setDraining(selfDrained());
      const unwatch = policy.onChange(() => !draining && membership!.setDraining(selfDrained()));
      stops.push(async () => unwatch());
    }
    view = createMeshView({ membership, peers: router?.peers });
    metrics.setMeshViewSource(view);

    ready = true;
    void record('node_joined', { node: config.node.id, roles: config.node.roles.join(',') });
    logger.info(
      { router: router?.url, api: api.url, metrics: metricsServer.url, gossip: membership?.address },
      'meshd started',
    );
    return {
      nodeId: config.node.id,
      routerUrl: router?.url,
      routerWorkers: router?.workers ?? 0,
      gossipAddress: membership?.address,
      apiUrl: api.url,
      metricsUrl: metricsServer.url,
      dashboardUrl: `${metricsServer.url}/ui`,
      simulatorUrls: gpu?.simulators ?? [],
      store,
      gpus,
      gpuTelemetry,
      async shutdown() {
        draining = true;
        membership?.setDraining(true);
        await record('node_left', { node: config.node.id });
        const report = await router?.drain(config.router.drainTimeoutMs);
        if (report) logger.info(report, 'router drained');
        await stopAll();
        return report;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Routers serving the mesh now, this one included, for splitting tenant quotas between them:
 * gossip members with the router role that are alive or suspect (a suspect router may still be
 * serving: counting it errs on the side of the quota). 1 without gossip. Cached for a second, as
 * the router asks on every request.
 */
function liveRouterCount(membership: () => MembershipRole | undefined): () => number {
  let count = 1;
  let at = -Infinity;
  return () => {
    const now = performance.now();
    if (now - at >= 1000) {
      at = now;
      const members = membership()?.members() ?? [];
      const routers = members.filter(
        (m) => (m.status === 'alive' || m.status === 'suspect') && m.node?.roles.includes('router'),
      ).length;
      count = Math.max(1, routers);
    }
    return count;
  };
}
