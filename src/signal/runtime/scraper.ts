/**
 * The runtime scraper of a gpu node: every interval it scrapes each runtime endpoint concurrently
 * (never two scrapes of one endpoint at once), writes one `ModelState` per model into the state
 * store, and keeps endpoint health:
 *
 *   success → `healthy` (records upserted, models that vanished removed)
 *   failure → last records kept, marked `stale`; after `unhealthyAfter` consecutive failures `unhealthy`
 *   success again → `healthy`, by itself
 *
 * An endpoint never seen up has no records; `endpoints()` lists it anyway, with its last error, so
 * the router knows it exists. Nothing thrown by an endpoint, a parser or a store listener escapes
 * the loop.
 */
import { Agent } from 'undici';
import { MeshError } from '../../core/errors.ts';
import type { EndpointHealth, ModelState } from '../../core/types.ts';
import type { Logger } from '../../observability/log.ts';
import type { MeshMetrics } from '../../observability/metrics.ts';
import type { StateStore } from '../state/state-store.ts';
import { createRuntimeAdapter } from './adapters.ts';
import { createGetText } from './http.ts';
import { removeModelGauges, setModelGauges } from './model-gauges.ts';
import { ScrapeError } from './scrape-error.ts';
import { endEndpointScrape, startEndpointScrape, tracedRound } from './scrape-tracing.ts';
import { createSendRequest } from './control-http.ts';
import type {
  EndpointStatus,
  EngineModelState,
  RuntimeAdapter,
  RuntimeControl,
  RuntimeEndpoint,
} from './types.ts';

export interface RuntimeScraperOptions {
  /** This node's id; endpoint ids are `${node}/${name}`. */
  node: string;
  endpoints: readonly RuntimeEndpoint[];
  intervalMs: number;
  /** Whole-scrape deadline (all of an endpoint's requests together). */
  timeoutMs: number;
  /** Consecutive failures after which an endpoint is `unhealthy` (the first makes it `stale`). */
  unhealthyAfter: number;
  store: StateStore;
  metrics?: MeshMetrics;
  logger: Logger;
  /** Unix ms; injectable for tests of rate windows. */
  clock?: () => number;
  /** Limit on a /metrics body (default 8 MiB). */
  maxBodyBytes?: number;
  /** Deadline of one load/unload call through `control()` (default 60 s: a model load is slow). */
  controlTimeoutMs?: number;
  /** TLS to runtimes with https URLs (the router's own: public roots plus the mesh bundle). */
  tls?: { ca?: string[]; rejectUnauthorized: boolean };
  /** Trace each round while tracing is on (`observability.tracing.scrapes`; default true). */
  traceRounds?: boolean;
}

export interface RuntimeScraper {
  /** Scrapes every `intervalMs` from now on (the first tick is one interval away; call scrapeOnce first for state at once). */
  start(): void;
  /** Stops the timer, aborts scrapes in flight and closes connections. Records stay in the store. */
  stop(): Promise<void>;
  /** Scrapes every endpoint once, concurrently; joins a scrape already in flight instead of starting another. */
  scrapeOnce(): Promise<void>;
  /** Every configured endpoint with its health, whether or not it ever answered. */
  endpoints(): EndpointStatus[];
  /**
   * Model lifecycle of an endpoint (by its configured name), when its runtime can load and unload
   * through its API; undefined for an unknown endpoint or a runtime that cannot.
   */
  control(endpointName: string): RuntimeControl | undefined;
  /** Per-engine records of an endpoint's last successful scrape (vLLM data parallel); [] otherwise. */
  engines(endpointName: string): EngineModelState[];
}

interface Endpoint {
  status: EndpointStatus;
  adapter: RuntimeAdapter | undefined;
  gpus?: readonly string[];
  records: Map<string, ModelState>;
  inFlight?: Promise<void>;
  controller?: AbortController;
}

/** Creates the scraper for this node's runtime endpoints (idle until `start()` or `scrapeOnce()`). */
export function createRuntimeScraper(options: RuntimeScraperOptions): RuntimeScraper {
  const { node, store, metrics, logger, timeoutMs, intervalMs, unhealthyAfter } = options;
  if (!(intervalMs > 0 && timeoutMs > 0 && unhealthyAfter >= 1)) {
    throw new MeshError(
      'invalid_config',
      'scraper needs intervalMs > 0, timeoutMs > 0 and unhealthyAfter >= 1',
    );
  }
  const names = options.endpoints.map((ep) => ep.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined)
    throw new MeshError('invalid_config', `duplicate runtime endpoint name "${duplicate}"`);
  const clock = options.clock ?? Date.now;
  const agent = new Agent({
    connections: 4,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs, ...options.tls },
  });
  const getText = createGetText(agent);
  // Lifecycle calls get their own pool: a model load may take far longer than a scrape's deadline.
  const controlTimeoutMs = options.controlTimeoutMs ?? 60_000;
  const controlAgent = new Agent({
    connections: 2,
    headersTimeout: controlTimeoutMs,
    bodyTimeout: controlTimeoutMs,
    ...(options.tls ? { connect: { ...options.tls } } : {}),
  });
  const send = createSendRequest(controlAgent, controlTimeoutMs);
  const minWindowMs = Math.min(intervalMs, 1000) / 2;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const endpoints = new Map<string, Endpoint>();
  for (const ep of options.endpoints) {
    const id = `${node}/${ep.name}`;
    const adapter = createRuntimeAdapter(ep, {
      endpointId: id,
      node,
      getText,
      send,
      maxBodyBytes: options.maxBodyBytes,
      minWindowMs,
    });
    const status: EndpointStatus = {
      id,
      name: ep.name,
      node,
      url: ep.url,
      runtime: ep.runtime,
      health: 'unknown',
      consecutiveFailures: 0,
      models: [],
    };
    if (ep.gpuType !== undefined) status.gpuType = ep.gpuType;
    if (!adapter) {
      status.lastError = {
        reason: 'unsupported_runtime',
        message: `no adapter for runtime "${ep.runtime}" yet`,
        at: clock(),
      };
      logger.warn(
        { endpoint: id, runtime: ep.runtime },
        'runtime has no adapter yet; endpoint listed but not scraped',
      );
    }
    endpoints.set(id, { status, adapter, records: new Map(), ...(ep.gpus?.length ? { gpus: ep.gpus } : {}) });
  }

  /** Store listeners belong to other components; one that throws must not break the scrape loop. */
  const guarded = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      logger.error({ err }, `state store ${what} failed`);
    }
  };

  const onSuccess = (ep: Endpoint, states: ModelState[], at: number) => {
    const { status } = ep;
    const seen = new Set<string>();
    for (const scraped of states) {
      // The adapter knows the runtime; which GPUs it runs on comes from config.
      const state = ep.gpus ? { ...scraped, gpuUuids: [...ep.gpus] } : scraped;
      seen.add(state.model);
      ep.records.set(state.model, state);
      guarded('upsert', () => store.upsert(state));
      setModelGauges(metrics, state);
    }
    for (const [model, state] of ep.records) {
      if (seen.has(model)) continue;
      ep.records.delete(model);
      guarded('remove', () => store.remove(status.id, model));
      removeModelGauges(metrics, state);
    }
    if (status.health === 'stale' || status.health === 'unhealthy') {
      logger.info(
        { endpoint: status.id, after: status.consecutiveFailures },
        'runtime endpoint healthy again',
      );
    }
    Object.assign(status, {
      health: 'healthy',
      consecutiveFailures: 0,
      lastScrapeAt: at,
      lastSuccessAt: at,
      models: [...seen],
    });
    metrics?.scrapes.inc({ endpoint: status.id, result: 'ok' });
  };

  const onFailure = (ep: Endpoint, err: ScrapeError, at: number) => {
    const { status } = ep;
    const before = status.health;
    status.consecutiveFailures++;
    const health: EndpointHealth = status.consecutiveFailures >= unhealthyAfter ? 'unhealthy' : 'stale';
    Object.assign(status, {
      health,
      lastScrapeAt: at,
      lastError: { reason: err.reason, message: err.message, at },
    });
    metrics?.scrapes.inc({ endpoint: status.id, result: 'error' });
    metrics?.scrapeErrors.inc({ endpoint: status.id, reason: err.reason });
    const log = {
      endpoint: status.id,
      reason: err.reason,
      failures: status.consecutiveFailures,
      error: err.message,
    };
    if (health === before) {
      logger.debug(log, 'runtime scrape failed');
      return;
    }
    logger.warn({ ...log, health }, 'runtime endpoint scrape failing');
    for (const [model, state] of ep.records) {
      const marked: ModelState = { ...state, health };
      ep.records.set(model, marked);
      guarded('upsert', () => store.upsert(marked));
      setModelGauges(metrics, marked);
    }
  };

  const run = async (ep: Endpoint, adapter: RuntimeAdapter) => {
    const controller = new AbortController();
    ep.controller = controller;
    const timeout = setTimeout(
      () => controller.abort(new ScrapeError('timeout', `no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const at = clock();
    const span = startEndpointScrape(ep.status);
    try {
      const states = await adapter.scrape({ signal: controller.signal, now: at });
      if (!stopped) onSuccess(ep, states, at);
      if (span) endEndpointScrape(span, { models: states.length });
    } catch (err) {
      const error = ScrapeError.from(err);
      if (!stopped) onFailure(ep, error, at);
      if (span) endEndpointScrape(span, error);
    } finally {
      clearTimeout(timeout);
      ep.controller = undefined;
    }
  };

  const scrapeEndpoint = (ep: Endpoint): Promise<void> => {
    if (stopped || !ep.adapter) return Promise.resolve();
    ep.inFlight ??= run(ep, ep.adapter)
      .catch((err: unknown) => logger.error({ err, endpoint: ep.status.id }, 'runtime scrape crashed'))
      .finally(() => {
        ep.inFlight = undefined;
      });
    return ep.inFlight;
  };

  const scrapeOnce = () =>
    tracedRound(options.traceRounds ?? true, endpoints.size, async () => {
      await Promise.all([...endpoints.values()].map(scrapeEndpoint));
    });

  return {
    start() {
      if (timer || stopped) return;
      timer = setInterval(() => void scrapeOnce(), intervalMs);
      timer.unref();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      for (const ep of endpoints.values())
        ep.controller?.abort(new ScrapeError('timeout', 'scraper stopped'));
      await Promise.allSettled([...endpoints.values()].flatMap((ep) => (ep.inFlight ? [ep.inFlight] : [])));
      await agent.destroy().catch(() => undefined);
      await controlAgent.destroy().catch(() => undefined);
    },
    scrapeOnce,
    control: (endpointName) => endpoints.get(`${node}/${endpointName}`)?.adapter?.control,
    engines: (endpointName) => endpoints.get(`${node}/${endpointName}`)?.adapter?.engines?.() ?? [],
    endpoints: () =>
      [...endpoints.values()].map(({ status }) => ({
        ...status,
        models: [...status.models],
        ...(status.lastError ? { lastError: { ...status.lastError } } : {}),
      })),
  };
}
