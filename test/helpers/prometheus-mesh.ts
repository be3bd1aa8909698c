/**
 * Test fixture shared by the Prometheus and Grafana tests: a two-node mesh in this process (node
 * `prom-a`: router + gpu with two simulators; node `prom-b`: gpu with one, found by gossip, so the
 * `node` labels differ), `sim` GPU telemetry with a temperature quarantine, traffic through the
 * router (streamed and not, one upstream reset that the router retries), one GPU quarantined by
 * overheating, and Debian's prometheus scraping both metrics ports on the shipped config and rules.
 * Resolves once Prometheus holds what the tests read: every recording rule has a value.
 */
import { parseConfig, type ConfigInput } from '../../src/core/config.ts';
import { startMeshd, type RunningMeshd } from '../../src/agent/meshd.ts';
import { createLogger } from '../../src/observability/log.ts';
import { simGpuUuid } from '../../src/signal/gpu/sim/source.ts';
import { waitFor } from './local-mesh.ts';
import { startPrometheus, type RunningPrometheus } from './prometheus.ts';

/** The model every simulator serves and every request asks for. */
export const MODEL = 'sim-llama-3-8b';
/** The GPU the fixture overheats: quarantined (`temperature`) for the rest of the test. */
export const HOT_GPU = simGpuUuid('prom-b', 'sim-b0');

/** The started fixture; `close` stops Prometheus, then both nodes. */
export interface PrometheusMesh {
  router: RunningMeshd;
  gpuNode: RunningMeshd;
  prometheus: RunningPrometheus;
  /** Prometheus's targets by job: both metrics ports (`infermesh`), the three simulators (`vllm`). */
  targets: { infermesh: string[]; vllm: string[] };
  close(): Promise<void>;
}

const listen0 = { host: '127.0.0.1', port: 0 };

function nodeConfig(
  id: string,
  extra: Partial<ConfigInput>,
  sims: string[],
  seeds: string[] = [],
): ConfigInput {
  return {
    apiVersion: 'infermesh/v1',
    // In memory: a test's control records must not outlive it or land in the checkout.
    control: { store: { embedded: { path: ':memory:' } } },
    api: listen0,
    metrics: listen0,
    log: { level: 'silent' },
    // Gossip's default timings: joining through the seed is immediate, and no member turns suspect
    // on a slow (loaded) machine within the test.
    membership: { bind: '127.0.0.1:0', seeds },
    ...extra,
    node: { id, roles: ['gpu'], ...extra.node },
    gpu: {
      scrapeIntervalMs: 100,
      simulators: sims.map((name, i) => ({ name, model: MODEL, timeScale: 50, seed: i + 1 })),
      telemetry: { source: 'sim', intervalMs: 100 },
      quarantine: { maxTemperatureC: 90 },
    },
  };
}

/** Starts the mesh, sends traffic, starts Prometheus and waits until it holds the results. */
export async function startPrometheusMesh(timeoutMs = 45_000): Promise<PrometheusMesh> {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const logger = createLogger('silent');
  const parts: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
  const closeAll = async () => {
    for (const p of parts.splice(0).reverse())
      await ('stop' in p ? p.stop() : p.close()).catch(() => undefined);
  };
  try {
    const router = await startMeshd(
      parseConfig(
        nodeConfig(
          'prom-a',
          { node: { id: 'prom-a', roles: ['router', 'gpu'] }, router: { listen: listen0 } },
          ['sim-a0', 'sim-a1'],
        ),
      ),
      logger,
    );
    parts.push(router);
    const gpuNode = await startMeshd(
      parseConfig(nodeConfig('prom-b', {}, ['sim-b0'], [router.gossipAddress!])),
      logger,
    );
    parts.push(gpuNode);
    const targets = {
      infermesh: [router, gpuNode].map((m) => new URL(m.metricsUrl).host),
      vllm: [router, gpuNode].flatMap((m) => m.simulatorUrls.map((s) => new URL(s.url).host)),
    };
    // Prometheus first: it then sees the counters move from one scrape to the next, as `rate` needs.
    const prometheus = await startPrometheus({ targets, intervalS: 1 });
    parts.push(prometheus);

    // Prometheus's discovery hands static targets to the scrapers after its 5 s update tick.
    await waitFor(
      async () => (await prometheus.query('up == 1')).length === 5,
      left(),
      'Prometheus to scrape both metrics ports and the three simulators',
    );
    await waitFor(
      async () => (await send(router.routerUrl!, 6)).has('prom-b/sim-b0'),
      left(),
      'the router to learn prom-b by gossip and route to it',
    );
    // One upstream reset before any byte: the router retries it elsewhere (a retry series).
    const simA0 = router.simulatorUrls.find((s) => s.name === 'sim-a0')!.url;
    await post(`${simA0}/sim/fault`, { mode: 'reset-before-headers', count: 1 });
    // Traffic over several scrapes, so that rates and TTFT quantiles have two samples to work on.
    const trafficUntil = Date.now() + 3500;
    while (Date.now() < trafficUntil) await send(router.routerUrl!, 8);
    // prom-b's GPU overheats: the gpu node quarantines it (a quarantined series, an alert firing).
    await post(`${gpuNode.simulatorUrls[0]!.url}/sim/gpu-fault`, { temperatureC: 97 });

    let missing = '';
    const ready = async () => {
      for (const expr of [
        'model:infermesh_router_requests:rate5m > 0',
        'model:infermesh_router_ttft_seconds:p99_5m > 0',
        'model:infermesh_router_requests_429:ratio5m',
        'model:infermesh_router_requests_5xx:ratio5m',
        `infermesh_gpu_quarantined{gpu_uuid="${HOT_GPU}"} == 1`,
        'infermesh_router_retries_total',
        'sum(rate(vllm:prefix_cache_hits_total[1m])) > 0',
      ]) {
        missing = expr;
        if ((await prometheus.query(expr)).length === 0) return false;
      }
      return true;
    };
    await waitFor(
      ready,
      left(),
      'Prometheus to hold the traffic, the quarantine and every recording rule',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; no result yet for ${missing}\n${prometheus.log()}`);
    });
    return { router, gpuNode, prometheus, targets, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function post(url: string, body: object): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

const SYSTEM_PROMPT = Array.from({ length: 40 }, (_, i) => `Rule ${i}: answer briefly and politely.`).join(
  ' ',
);

/** `n` chat completions through the router, every other one streamed; which endpoint served each. */
async function send(routerUrl: string, n: number): Promise<Map<string, number>> {
  const served = new Map<string, number>();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await fetch(`${routerUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          // One long system prompt for all: the runtimes' prefix caches hit (the prefix panels' data).
          messages: [
            { role: 'system', content: SYSTEM_PROMPT },
            { role: 'user', content: `hello ${i}` },
          ],
          max_tokens: 4,
          stream: i % 2 === 1,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`chat completion: ${res.status}`);
      const ep = res.headers.get('x-infermesh-endpoint') ?? '';
      served.set(ep, (served.get(ep) ?? 0) + 1);
    }),
  );
  return served;
}
