/**
 * The router on several cores: N worker threads accept on the same port (SO_REUSEPORT) and relay
 * independently, while every routing decision is made by the one decision owner on this (main)
 * thread, so the node routes as one router would. A worker that dies is replaced; `/metrics`
 * sums the workers' request metrics (`metricsJson`); `drain` drains every worker at once.
 */
import { createServer } from 'node:net';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MeshConfig } from '../core/config.ts';
import { MeshError } from '../core/errors.ts';
import { bind } from '../core/listen.ts';
import { createDecisionOwner } from '../data/decisions/owner.ts';
import type { EndpointSelector } from '../data/endpoint-selector.ts';
import type { DrainReport } from '../data/router-server.ts';
import type { Logger } from '../observability/log.ts';
import type { MetricsJson } from '../observability/exposition.ts';
import type { RouterWorkerCommand, RouterWorkerData, RouterWorkerEvent } from './router-worker-protocol.ts';

export interface RouterWorkers {
  url: string;
  /** Requests in flight across the workers. */
  active(): number;
  drain(timeoutMs: number): Promise<DrainReport>;
  /** Each worker's metrics, for the node's `/metrics` to sum. */
  metricsJson(): Promise<MetricsJson[]>;
  stop(): Promise<void>;
}

export interface RouterWorkersOptions {
  count: number;
  config: MeshConfig;
  /** The node's one in-process selector: the decision owner decides with it for every worker. */
  selector: EndpointSelector;
  logger: Logger;
}

/** A worker that died is started again after this long (a crash loop costs one start a second). */
const RESTART_DELAY_MS = 1000;
/** How long a worker may take to answer a metrics request before the scrape goes on without it. */
const METRICS_WAIT_MS = 1000;
/** How long a stopping worker may take to close before it is terminated. */
const STOP_WAIT_MS = 3000;

const WORKER_URL = new URL(
  `./router-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

export async function startRouterWorkers(options: RouterWorkersOptions): Promise<RouterWorkers> {
  const { config, logger, count } = options;
  const host = config.router.listen.host;
  const { url, port } = await probePort(host, config.router.listen.port);
  const owner = createDecisionOwner(options.selector);
  const threads = new Array<Worker | undefined>(count);
  let stopping = false;
  let nextMetricsId = 1;

  async function spawn(index: number): Promise<Worker> {
    const channel = new MessageChannel();
    owner.attach(channel.port1);
    const data: RouterWorkerData = {
      index,
      workers: count,
      nodeId: config.node.id,
      logLevel: config.log.level,
      router: config.router,
      port,
      blockTokens: options.selector.blockTokens,
      decisions: channel.port2,
    };
    const worker = new Worker(WORKER_URL, { workerData: data, transferList: [channel.port2] });
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
    worker.once('exit', (code) => {
      channel.port1.close();
      threads[index] = undefined;
      if (stopping) return;
      logger.error({ worker: index, code }, 'router worker exited; starting a new one');
      setTimeout(() => {
        if (!stopping)
          spawn(index).then(
            (w) => (threads[index] = w),
            (err: unknown) => logger.error({ err }, 'router worker restart failed'),
          );
      }, RESTART_DELAY_MS).unref();
    });
    return worker;
  }

  try {
    for (let i = 0; i < count; i++) threads[i] = await spawn(i);
  } catch (err) {
    stopping = true;
    await Promise.all(threads.filter((w) => w !== undefined).map((w) => w.terminate()));
    owner.stop();
    throw err;
  }

  const live = () => threads.filter((w): w is Worker => w !== undefined);
  const command = (w: Worker, c: RouterWorkerCommand) => w.postMessage(c);
  /** Sends `c` to `w` and waits (bounded) for the first event `pick` accepts. */
  const ask = <T>(
    w: Worker,
    c: RouterWorkerCommand,
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
      command(w, c);
    });

  logger.info({ workers: count, url }, 'router workers listening');
  return {
    url,
    active: () => owner.openLeases(),
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
      await Promise.all(
        live().map(async (w) => {
          const exited = ask(w, { kind: 'stop' }, () => undefined, STOP_WAIT_MS);
          await exited;
          await w.terminate();
        }),
      );
      owner.stop();
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
