/**
 * The router on several cores: N worker threads accept on the same port (SO_REUSEPORT) and relay
 * independently, each deciding with its own replica of the node's scoring engine; the replicas
 * share one journal in shared memory (`src/scoring/journal/`), so the node routes as one router
 * would. This thread feeds them the state stores, ends the open requests of a worker that dies and
 * starts a new one; `/metrics` sums the workers' request metrics (`metricsJson`); `drain` drains
 * every worker at once. The routing policy goes to each worker whole, with the node's one table
 * of quota buckets in shared memory, so a tenant's budget is the node's, not a worker's.
 */
import { createServer } from 'node:net';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { PolicyFeed } from '../control/policy-feed.ts';
import type { RoutingPolicy } from '../control/routing-policy.ts';
import type { MeshConfig } from '../core/config.ts';
import { MeshError } from '../core/errors.ts';
import { bind } from '../core/listen.ts';
import type { DrainReport } from '../data/router-server.ts';
import type { MetricsJson } from '../observability/exposition.ts';
import type { Logger } from '../observability/log.ts';
import type { ScoringEngine } from '../scoring/engine.ts';
import { journalTail } from '../scoring/journal/shared-journal.ts';
import { publishState, type FeedSource } from '../signal/state/thread-feed.ts';
import type { DecisionBatch } from './decision-relay.ts';
import { quotaTables } from './router-policy.ts';
import type { RouterWorkerCommand, RouterWorkerData, RouterWorkerEvent } from './router-worker-protocol.ts';
import { runtimeTlsOf, type RouterTlsSource } from './router-tls.ts';

export interface RouterWorkers {
  url: string;
  drain(timeoutMs: number): Promise<DrainReport>;
  /** Each worker's metrics, for the node's `/metrics` to sum. */
  metricsJson(): Promise<MetricsJson[]>;
  stop(): Promise<void>;
}

export interface RouterWorkersOptions {
  count: number;
  config: MeshConfig;
  /** The node's journal; this thread's engine is participant 0 and tracks every open request. */
  journal: SharedArrayBuffer;
  engine: ScoringEngine;
  /** What the workers mirror: the stores and this node's quarantine. */
  state: FeedSource;
  /** The control plane's routing policy, posted whole to every worker on each change. */
  policy: PolicyFeed;
  /** Routers in the mesh (this one included), which quotas are split over; read every second. */
  liveRouters: () => number;
  /** A request was refused over a quota (each worker sends at most one per tenant+model per interval). */
  onQuotaExceeded?: (tenant: string, model: string) => void;
  logger: Logger;
  /** The router port's certificate: each worker serves https with it, and gets each new one. */
  tls?: RouterTlsSource;
  /** The node's decision ring: workers read its switch and post what they record while it is on. */
  decisions?: { watchFlag: SharedArrayBuffer; apply(batch: DecisionBatch): void };
}

/** A worker that died is started again after this long (a crash loop costs one start a second). */
const RESTART_DELAY_MS = 1000;
/** How long a worker may take to answer a metrics request before the scrape goes on without it. */
const METRICS_WAIT_MS = 1000;
/** How often the live router count is read for the workers' quota split. */
const LIVE_ROUTERS_REFRESH_MS = 1000;
/** Starts tried on fresh ports when `router.listen.port` is 0 and the probed one was taken meanwhile. */
const PORT_RACE_ATTEMPTS = 3;
/** How long a stopping worker may take to close before it is terminated. */
const STOP_WAIT_MS = 3000;
/**
 * A worker's young generation (MiB). Relaying allocates short-lived objects fast; V8's default
 * lets each thread's nursery grow to tens of MiB, which at 3,000 streams on 4 workers cost
 * ~120 MiB of RSS for no throughput (bench:streams); 16 keeps it at ~20 MiB more than 8 did.
 */
const WORKER_YOUNG_GENERATION_MB = 16;

const WORKER_URL = new URL(
  `./router-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

export async function startRouterWorkers(options: RouterWorkersOptions): Promise<RouterWorkers> {
  const { config, logger, count } = options;
  let { url, port } = await probePort(config.router.listen.host, config.router.listen.port);
  const threads = new Array<Worker | undefined>(count);
  // The first workers listen while the last still start: all read the journal from here.
  const journalFrom = journalTail(options.journal);
  let stopping = false;
  let nextMetricsId = 1;
  // The policy and its quota buckets, one table for the whole node (levels carried over).
  const tables = quotaTables();
  const withTable = (policy: RoutingPolicy) => ({ policy, quotaMemory: tables(policy).memory });
  let latest = withTable(options.policy.current());
  const liveRouters = new Int32Array(new SharedArrayBuffer(4));
  const readLiveRouters = () => Atomics.store(liveRouters, 0, Math.max(1, Math.floor(options.liveRouters())));
  readLiveRouters();
  // Followed from before the first start: a worker started meanwhile gets the change after it listens.
  const runtimeTls = runtimeTlsOf(config);
  // A worker starting meanwhile read the current certificate from its workerData already.
  options.tls?.onChange((tls) => {
    for (const w of threads) w?.postMessage({ kind: 'tls', tls } satisfies RouterWorkerCommand);
  });
  const unfollow = options.policy.onChange((policy) => {
    latest = withTable(policy);
    for (const w of threads) w?.postMessage({ kind: 'policy', ...latest } satisfies RouterWorkerCommand);
  });

  async function spawn(index: number, from: number): Promise<Worker> {
    const feed = new MessageChannel();
    publishState(feed.port1, options.state);
    const data: RouterWorkerData = {
      index,
      workers: count,
      config,
      port,
      journal: options.journal,
      journalFrom: from,
      feed: feed.port2,
      ...latest,
      liveRouters: liveRouters.buffer,
      ...(options.tls ? { tls: options.tls.current() } : {}),
      runtimeTls,
      ...(options.decisions ? { decisionFlag: options.decisions.watchFlag } : {}),
    };
    const sent = latest;
    const worker = new Worker(WORKER_URL, {
      workerData: data,
      transferList: [feed.port2],
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    worker.on('error', (err) => logger.error({ err, worker: index }, 'router worker failed'));
    await new Promise<void>((resolve, reject) => {
      const onEvent = (event: RouterWorkerEvent) => {
        if (event.kind === 'listening') resolve();
        else if (event.kind === 'failed') reject(new MeshError(event.code, event.message));
      };
      worker.on('message', onEvent);
      worker.once('exit', (code) =>
        reject(new MeshError('internal', `router worker ${index} exited (${code}) while starting`)),
      );
    }).finally(() => worker.removeAllListeners('message'));
    worker.on('message', (event: RouterWorkerEvent) => {
      if (event.kind === 'quota-exceeded') options.onQuotaExceeded?.(event.tenant, event.model);
      else if (event.kind === 'decisions') options.decisions?.apply(event.batch);
    });
    // The policy changed while it started: it missed that post.
    if (latest !== sent) worker.postMessage({ kind: 'policy', ...latest } satisfies RouterWorkerCommand);
    // Likewise a certificate renewed while it started.
    const tlsNow = options.tls?.current();
    if (tlsNow && tlsNow.cert !== data.tls?.cert)
      worker.postMessage({ kind: 'tls', tls: tlsNow } satisfies RouterWorkerCommand);
    worker.once('exit', (code) => {
      feed.port1.close();
      // Its requests will never report their end: end them for every replica.
      options.engine.abandon(index + 1);
      threads[index] = undefined;
      if (stopping) return;
      logger.error({ worker: index, code }, 'router worker exited; starting a new one');
      setTimeout(() => {
        if (stopping) return;
        spawn(index, journalTail(options.journal)).then(
          (w) => (threads[index] = w),
          (err: unknown) => logger.error({ err, worker: index }, 'router worker restart failed'),
        );
      }, RESTART_DELAY_MS).unref();
    });
    return worker;
  }

  // All at once: a worker takes a few hundred ms to load, and workers started one after another
  // would leave the first to accept every connection made meanwhile (and keep it, with keep-alive).
  const startAll = async () => {
    const started = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => (threads[i] = await spawn(i, journalFrom))),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (!failed) return undefined;
    stopping = true;
    await Promise.all(threads.filter((w) => w !== undefined).map((w) => w.terminate()));
    threads.fill(undefined);
    return MeshError.from(failed.reason);
  };
  // Port 0: the probe picked a free port and let it go; another process may take it before the
  // workers bind. Then pick again rather than fail a start that asked for any port.
  for (let attempt = 1; ; attempt++) {
    const err = await startAll();
    if (err === undefined) break;
    const raced = config.router.listen.port === 0 && /in use/.test(err.message);
    if (!raced || attempt === PORT_RACE_ATTEMPTS) {
      unfollow();
      throw err;
    }
    logger.warn(
      { port, attempt },
      'the probed router port was taken before the workers bound; picking another',
    );
    ({ url, port } = await probePort(config.router.listen.host, 0));
    stopping = false;
  }

  const live = () => threads.filter((w): w is Worker => w !== undefined);
  /** Sends `command` to `w` and waits (bounded) for the first event `pick` accepts. */
  const ask = <T>(
    w: Worker,
    command: RouterWorkerCommand,
    pick: (e: RouterWorkerEvent) => T | undefined,
    waitMs: number,
  ) =>
    new Promise<T | undefined>((resolve) => {
      const done = (value: T | undefined) => {
        clearTimeout(timer);
        w.off('message', onEvent);
        w.off('exit', onExit);
        resolve(value);
      };
      const onEvent = (e: RouterWorkerEvent) => {
        const value = pick(e);
        if (value !== undefined) done(value);
      };
      const onExit = () => done(undefined);
      const timer = setTimeout(() => done(undefined), waitMs);
      w.on('message', onEvent);
      w.once('exit', onExit);
      w.postMessage(command);
    });

  const refresh = setInterval(readLiveRouters, LIVE_ROUTERS_REFRESH_MS).unref();

  if (options.tls) url = url.replace(/^http:/, 'https:');
  logger.info({ workers: count, url }, 'router workers listening');
  return {
    url,
    async drain(timeoutMs) {
      const reports = await Promise.all(
        live().map((w) =>
          ask(
            w,
            { kind: 'drain', timeoutMs },
            (e) => (e.kind === 'drained' ? e.report : undefined),
            timeoutMs + 10_000,
          ),
        ),
      );
      return reports.reduce<DrainReport>(
        (sum, r) => ({ inFlight: sum.inFlight + (r?.inFlight ?? 0), cut: sum.cut + (r?.cut ?? 0) }),
        { inFlight: 0, cut: 0 },
      );
    },
    async metricsJson() {
      const all = await Promise.all(
        live().map((w) => {
          const id = nextMetricsId++;
          return ask(
            w,
            { kind: 'metrics', id },
            (e) => (e.kind === 'metrics' && e.id === id ? e.json : undefined),
            METRICS_WAIT_MS,
          );
        }),
      );
      return all.filter((json): json is MetricsJson => json !== undefined);
    },
    async stop() {
      stopping = true;
      clearInterval(refresh);
      unfollow();
      await Promise.all(
        live().map(async (w) => {
          await ask(w, { kind: 'stop' }, () => undefined, STOP_WAIT_MS);
          await w.terminate();
        }),
      );
    },
  };
}

/**
 * Checks that the router port is free (and picks one for port 0) with a plain bind, without
 * SO_REUSEPORT: a second meshd on the same port fails here with the config key named, instead of
 * silently sharing the port with the first.
 */
async function probePort(host: string, port: number): Promise<{ url: string; port: number }> {
  const probe = createServer();
  const bound = await bind(probe, { host, port, configKey: 'router.listen' });
  await new Promise((resolve) => probe.close(resolve));
  return bound;
}
