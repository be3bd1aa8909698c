/**
 * The processes of one `--mode real` run: a simulator process per endpoint (`real-sim.ts`, cold
 * caches every time) and one meshd with roles router + gpu that scrapes them and routes with the
 * run's scoring profile; or, with `routers` set (`--routers N`), one meshd with role gpu that
 * scrapes them and N meshd with role router that follow it over StatePlane, active-active, sharing
 * their in-flight work through it or not (`router.shareInFlight`). Every child is tracked here, so an error, SIGINT or SIGTERM in the
 * benchmark stops them all (and `exit` SIGKILLs any still alive).
 */
import type { ChildHandle } from '../../test/helpers/processes.ts';
import { spawnMeshd, spawnScript } from '../../test/helpers/processes.ts';
import { PRECISE_PROFILES } from '../../src/scoring/profiles.ts';
import { DEFAULT_PRIOR_RATES } from '../../src/scoring/service-rates.ts';
import { parsePrometheus, samplesByName } from '../../src/signal/runtime/prometheus/index.ts';
import type { EndpointSpec } from './capacity.ts';

/** End of real-sim.ts's start-up line (not imported: that module starts a server when loaded). */
export const REAL_SIM_READY = 'sim-ready';

/** Served model name of every simulator. */
export const REAL_MODEL = 'sim-llama-3-8b';

export interface RealFleetOptions {
  fleet: readonly EndpointSpec[];
  /** Simulator speed-up over real time; every wall-clock setting of meshd is divided by it. */
  timeScale: number;
  seed: number;
  /** Scoring profile (`scoring.profile`). */
  profile: string;
  /** Scrape interval in simulated ms (becomes `scrapeIntervalMs / timeScale` wall, at least 50). */
  scrapeIntervalMs: number;
  /** Router admission (429 past the predicted wait budget); off as in the virtual mode by default. */
  admission: boolean;
  /** Wall ms a request may take before the router gives up on its upstream. */
  requestTimeoutMs: number;
  /** Checkout to start the processes from (`snapshotCode()`). */
  codeRoot: string;
  /** Separate router processes following one gpu-role meshd; absent: one meshd with both roles. */
  routers?: number;
  /** `router.shareInFlight` of those routers. Default true. */
  shareInFlight?: boolean;
  /** `router.workers` of each router process (absent: meshd's `auto`). */
  routerWorkers?: number;
}

/** Sums of the simulators' own counters (from their `/metrics`). */
export interface SimCounters {
  prefixHits: number;
  prefixQueries: number;
  preemptions: number;
  /** Sum and count of the engines' own TTFT histogram (simulated seconds, from engine arrival). */
  ttftSumS: number;
  ttftCount: number;
}

export interface RealFleet {
  routerUrl: string;
  /** Every router's URL (one unless `routers` > 1); the client spreads requests over them. */
  routerUrls: string[];
  /** Endpoint id meshd gives each simulator (`<node>/<name>`), in fleet order. */
  endpointIds: string[];
  counters(): Promise<SimCounters>;
  stop(): Promise<void>;
}

const live = new Set<ChildHandle>();
let handlersInstalled = false;

/** Stops every child this module started (SIGINT, then SIGKILL after a bounded wait). */
export async function stopAllChildren(): Promise<void> {
  const all = [...live];
  live.clear();
  await Promise.allSettled(all.map((c) => c.stop()));
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`bench:routing: ${signal}, stopping ${live.size} child processes\n`);
    void stopAllChildren().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Last resort (uncaught error, process.exit elsewhere): no child may outlive the benchmark.
  process.once('exit', () => {
    for (const c of live) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  });
}

async function track<T extends ChildHandle>(start: Promise<T>): Promise<T> {
  const handle = await start;
  live.add(handle);
  return handle;
}

async function untrack(handle: ChildHandle): Promise<void> {
  live.delete(handle);
  await handle.stop();
}

/** Reads one Prometheus counter summed over all its series. */
function sum(byName: ReturnType<typeof samplesByName>, name: string): number {
  return (byName.get(name) ?? []).reduce((a, s) => a + s.value, 0);
}

async function simCounters(url: string): Promise<SimCounters> {
  const res = await fetch(`${url}/metrics`);
  const byName = samplesByName(parsePrometheus(await res.text()));
  return {
    prefixHits: sum(byName, 'vllm:prefix_cache_hits_total'),
    prefixQueries: sum(byName, 'vllm:prefix_cache_queries_total'),
    preemptions: sum(byName, 'vllm:num_preemptions_total'),
    ttftSumS: sum(byName, 'vllm:time_to_first_token_seconds_sum'),
    ttftCount: sum(byName, 'vllm:time_to_first_token_seconds_count'),
  };
}

/**
 * The simulator's URL from its complete start-up line (never from a partial one: the review saw
 * `fetch failed: bad port` from a URL cut mid-write), once it answers `/health`.
 */
/** The KV-event sockets a simulator started with `kvEvents` printed on its start-up line. */
function simKvEvents(handle: ChildHandle): { kvEvents: string; kvEventsReplay?: string } | undefined {
  const line = handle
    .output()
    .split('\n')
    .find((l) => l.includes('mesh-sim listening on') && l.endsWith(REAL_SIM_READY));
  const m = line?.match(/ kv-events=(tcp:\/\/\S+) kv-replay=(\S+)/);
  if (!m) return undefined;
  return { kvEvents: m[1]!, ...(m[2] !== '-' ? { kvEventsReplay: m[2]! } : {}) };
}

async function simUrl(handle: ChildHandle, timeoutMs = 15_000): Promise<string> {
  const line = handle
    .output()
    .split('\n')
    .find((l) => l.includes('mesh-sim listening on') && l.endsWith(REAL_SIM_READY));
  const url = line?.match(
    /listening on (http:\/\/127\.0\.0\.1:\d+|http:\/\/\[::1\]:\d+|http:\/\/localhost:\d+)\s/,
  )?.[1];
  if (!url) throw new Error(`no complete start-up line from a simulator:\n${handle.output()}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) return url;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`simulator at ${url} not healthy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until meshd reports every endpoint healthy (its first scrapes are done). */
async function waitHealthy(metricsUrl: string, n: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let healthy = 0;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    healthy = text.split('\n').filter((l) => /^infermesh_model_endpoint_healthy\{.*\} 1$/.test(l)).length;
    if (healthy >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`meshd saw ${healthy} of ${n} endpoints healthy after ${timeoutMs} ms`);
}

/**
 * Waits until a router process (role router only) can score every endpoint: it mirrors them from
 * the gpu node over StatePlane (Scoring.ScoreTargets in Connect JSON, no client library needed).
 */
async function waitRouted(apiUrl: string, n: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    const res = await fetch(`${apiUrl}/infermesh.scoring.v1.Scoring/ScoreTargets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: REAL_MODEL, topK: n }),
    }).catch(() => undefined);
    if (res?.ok) {
      seen = ((await res.json()) as { targets?: unknown[] }).targets?.length ?? 0;
      if (seen >= n) return;
    } else await res?.body?.cancel();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`router at ${apiUrl} could score ${seen} of ${n} endpoints after ${timeoutMs} ms`);
}

/** Starts the simulators and meshd for one run; resolves once the router has scraped them all. */
export async function startRealFleet(o: RealFleetOptions): Promise<RealFleet> {
  installHandlers();
  const started: ChildHandle[] = [];
  try {
    // allSettled: a simulator that fails to start must not leave its siblings untracked here.
    const settled = await Promise.allSettled(
      o.fleet.map(async (spec, i) => {
        const opts = {
          profile: spec.gpu,
          maxNumSeqs: spec.maxNumSeqs,
          kvBlocks: spec.kvBlocks,
          maxNumBatchedTokens: spec.maxNumBatchedTokens,
          timeScale: o.timeScale,
          seed: o.seed + i,
          // A precise profile routes on the engines' KV events: the simulators publish them as vLLM does.
          ...(o.profile in PRECISE_PROFILES ? { kvEvents: { port: 0, topic: '' } } : {}),
        };
        const handle = await track(
          spawnScript('bench/routing/real-sim.ts', [JSON.stringify(opts)], `${REAL_SIM_READY}\n`, {
            stdin: 'pipe',
            root: o.codeRoot,
          }),
        );
        const url = await simUrl(handle);
        const kv = simKvEvents(handle);
        return { handle, url, name: `${spec.gpu}-${i}`, gpuType: spec.gpu.toUpperCase(), kv };
      }),
    );
    for (const s of settled) if (s.status === 'fulfilled') started.push(s.value.handle);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed?.status === 'rejected') throw failed.reason;
    const sims = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const S = o.timeScale;
    // The router lives in wall time: its prefill-rate priors and wait budgets are scaled so its
    // predictions mean the same at any time scale (everything else it learns from outcomes).
    const serviceRates = Object.fromEntries(
      Object.entries(DEFAULT_PRIOR_RATES).map(([gpu, rate]) => [gpu, rate * S]),
    );
    const routerConfig = {
      maxBodyBytes: 8 * 1024 * 1024, // 126k token ids as JSON are about 1.4 MB
      upstreamHeadersTimeoutMs: o.requestTimeoutMs,
      upstreamBodyTimeoutMs: o.requestTimeoutMs,
      ...(o.routerWorkers ? { workers: o.routerWorkers } : {}),
    };
    const scoring = {
      profile: o.profile,
      serviceRates,
      admission: {
        enabled: o.admission,
        maxWaitMs: { latency: Math.ceil(10_000 / S), throughput: Math.ceil(120_000 / S) },
      },
    };
    const gpu = {
      scrapeIntervalMs: Math.max(50, Math.round(o.scrapeIntervalMs / S)),
      runtimes: sims.map((s) => ({ name: s.name, runtime: 'vllm', url: s.url, gpuType: s.gpuType, ...s.kv })),
    };
    const common = {
      apiVersion: 'infermesh/v1',
      api: { port: 0 },
      metrics: { port: 0 },
      log: { level: 'error' },
    };
    const split = o.routers !== undefined;
    const meshd = await track(
      spawnMeshd(
        split
          ? { ...common, node: { id: 'bench', roles: ['gpu'] }, gpu }
          : {
              ...common,
              node: { id: 'bench', roles: ['router', 'gpu'] },
              router: { listen: { port: 0 }, ...routerConfig },
              scoring,
              gpu,
            },
        20_000,
        { root: o.codeRoot },
      ),
    );
    started.push(meshd);
    await waitHealthy(meshd.urls.metrics, sims.length);
    const routers = split
      ? await Promise.all(
          Array.from({ length: o.routers! }, async (_, i) => {
            const r = await track(
              spawnMeshd(
                {
                  ...common,
                  node: { id: `router-${i + 1}`, roles: ['router'] },
                  router: {
                    listen: { port: 0 },
                    ...routerConfig,
                    peers: [{ id: 'bench', url: meshd.urls.api }],
                    shareInFlight: o.shareInFlight ?? true,
                  },
                  scoring,
                },
                20_000,
                { root: o.codeRoot },
              ),
            );
            started.push(r);
            await waitRouted(r.urls.api, sims.length);
            return r;
          }),
        )
      : [meshd];
    const routerUrls = routers.map((r) => r.urls.router);
    return {
      routerUrl: routerUrls[0]!,
      routerUrls,
      endpointIds: sims.map((s) => `bench/${s.name}`),
      async counters() {
        const all = await Promise.all(sims.map((s) => simCounters(s.url)));
        const total: SimCounters = {
          prefixHits: 0,
          prefixQueries: 0,
          preemptions: 0,
          ttftSumS: 0,
          ttftCount: 0,
        };
        for (const c of all) for (const k of Object.keys(total) as Array<keyof SimCounters>) total[k] += c[k];
        return total;
      },
      async stop() {
        // Routers first, so nothing is forwarded to a simulator that is going away.
        const meshds = new Set<ChildHandle>([...routers, meshd]);
        await Promise.all(routers.map(untrack));
        if (split) await untrack(meshd);
        await Promise.all(started.filter((h) => !meshds.has(h)).map(untrack));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map(untrack));
    throw err;
  }
}
