/**
 * One router worker thread: its own HTTP server on the node's router port (SO_REUSEPORT, so the
 * kernel spreads connections over the workers), its own upstream pools, request metrics and
 * logger, and its own replica of the node's scoring engine: state stores mirrored from the main
 * thread, router-side state kept equal to every other thread's through the shared journal. It
 * decides for its requests itself, holding the journal's lock for the decision. The main thread
 * drives it with `RouterWorkerCommand`s, the routing policy among them (drains, pins, quotas, SLO
 * rules: applied here as on the main thread, with the node's quota buckets in shared memory).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { processClockMs } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';
import { createPolicyFeed } from '../control/policy-feed.ts';
import { createNodeAttempts } from '../data/node-attempts.ts';
import { createQuotaLimiter } from '../data/quota/quota-limiter.ts';
import { createSloRouting } from '../data/slo-rules.ts';
import { attachQuotaTable } from '../data/quota/quota-table.ts';
import { createThrottle } from '../data/quota/throttle.ts';
import { createRouterServer, type RouterServer } from '../data/router-server.ts';
import { createUpstreams } from '../data/upstreams.ts';
import { createLogger } from '../observability/log.ts';
import { createMeshMetrics } from '../observability/metrics.ts';
import { startTracing, type Tracing } from '../observability/tracing/provider.ts';
import { createScoringEngine } from '../scoring/engine.ts';
import { engineOptionsFromConfig } from '../scoring/from-config.ts';
import { attachSharedJournal, JOURNAL_FOLLOW_MS } from '../scoring/journal/shared-journal.ts';
import { syncEngineWithStore } from '../scoring/store-sync.ts';
import { mirrorState } from '../signal/state/thread-feed.ts';
import { workerDecisionRecorder } from './decision-relay.ts';
import { apiKeyGateFor, applyRoutingPolicy, QUOTA_EVENT_INTERVAL_MS } from './router-policy.ts';
import { routerSelector } from './router-selector.ts';
import type { RouterWorkerCommand, RouterWorkerData, RouterWorkerEvent } from './router-worker-protocol.ts';

const data = workerData as RouterWorkerData;
const control = parentPort!;
const send = (event: RouterWorkerEvent) => control.postMessage(event);
let tracing: Tracing | undefined;

async function start(): Promise<RouterServer> {
  const { config } = data;
  const router = config.router;
  const logger = createLogger(config.log.level, {
    node: config.node.id,
    component: 'router',
    worker: data.index,
  });
  // Each worker thread traces and exports itself (the OpenTelemetry API's state is per thread).
  tracing = await startTracing(
    config.observability.tracing,
    { nodeId: config.node.id, worker: data.index },
    logger,
  );
  const metrics = createMeshMetrics();
  const engine = createScoringEngine({
    ...engineOptionsFromConfig(config.scoring),
    journal: attachSharedJournal(data.journal, data.index + 1, data.journalFrom),
    now: processClockMs,
  });
  const mirror = mirrorState(data.feed);
  syncEngineWithStore(engine, mirror.store, mirror.gpus);
  // An idle worker still follows the journal, so the ring never laps it.
  const follow = setInterval(() => engine.sync(), JOURNAL_FOLLOW_MS).unref();
  // The policy as the main thread posts it, with the shared memory of its quota buckets.
  const policy = createPolicyFeed(data.policy);
  let quotaMemory = data.quotaMemory;
  const liveRouters = new Int32Array(data.liveRouters);
  // Decisions are explained and posted only while the node's switch says someone watches.
  const decisions =
    data.decisionFlag &&
    workerDecisionRecorder(data.index + 1, data.decisionFlag, (batch) => send({ kind: 'decisions', batch }));
  const selector = routerSelector(config, {
    engine,
    store: mirror.store,
    gpus: mirror.gpus,
    quarantine: { node: config.node.id, isQuarantined: (uuid) => mirror.isQuarantined(uuid) },
    rules: policy,
    ...(decisions ? { decisions } : {}),
  });
  const attempts = createNodeAttempts();
  const quota = createQuotaLimiter({ liveRouters: () => Atomics.load(liveRouters, 0), now: processClockMs });
  const slo = createSloRouting(router.hedging);
  const apiKeys = apiKeyGateFor(config);
  applyRoutingPolicy(policy, {
    attempts,
    quota,
    slo,
    apiKeys,
    table: (rules) => attachQuotaTable(rules.quotas, quotaMemory),
  });
  const quotaEvents = createThrottle(QUOTA_EVENT_INTERVAL_MS);
  const upstreams = createUpstreams({
    connections: Math.ceil(router.connectionsPerEndpoint / data.workers),
    tls: data.runtimeTls,
    headersTimeoutMs: router.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: router.upstreamBodyTimeoutMs,
  });
  const server = await createRouterServer({
    host: router.listen.host,
    port: data.port,
    ...(data.tls ? { tls: data.tls } : {}),
    backlog: router.listenBacklog,
    reusePort: true,
    worker: data.index,
    maxBodyBytes: router.maxBodyBytes,
    retries: router.retries,
    hedging: router.hedging,
    decider: selector,
    upstreams,
    metrics,
    logger,
    quota,
    apiKeys,
    attempts,
    slo,
    onQuotaExceeded(tenant, model) {
      if (quotaEvents.pass(`${tenant}\u0000${model}`)) send({ kind: 'quota-exceeded', tenant, model });
    },
  });
  control.on('message', (command: RouterWorkerCommand) => {
    if (command.kind === 'metrics') {
      void metrics.registry
        .getMetricsAsJSON()
        .then((json) => send({ kind: 'metrics', id: command.id, json }));
    } else if (command.kind === 'tls') {
      server.setTls(command.tls);
    } else if (command.kind === 'policy') {
      quotaMemory = command.quotaMemory;
      policy.set(command.policy);
    } else if (command.kind === 'drain') {
      void server.drain(command.timeoutMs).then((report) => send({ kind: 'drained', report }));
    } else {
      clearInterval(follow);
      decisions?.stop();
      void Promise.all([server.close(), upstreams.close()])
        .then(() => tracing?.shutdown())
        .finally(() => {
          data.feed.close();
          control.close();
        });
    }
  });
  return server;
}

start().then(
  (server) => send({ kind: 'listening', url: server.url }),
  (err: unknown) => {
    const error = MeshError.from(err);
    send({ kind: 'failed', code: error.code, message: error.message });
  },
);
