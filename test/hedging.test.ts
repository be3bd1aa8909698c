// Hedging: a request whose first token is late gets a second copy on the next-best endpoint; the
// first to answer is relayed as one clean stream, the other is cancelled (the runtime sees it),
// the extra load stays under its cap, and a saturated fleet gets no hedge.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ConfigInput } from '../src/core/config.ts';
import { startMeshd, type RunningMeshd } from '../src/agent/meshd.ts';
import { createLogger } from '../src/observability/log.ts';
import { createSimServer, type SimServer } from '../src/sim/server.ts';
import { createStragglerClock, type StragglerClock } from '../src/sim/faults.ts';
import { startHedgeBackend, type HedgeBackend } from './helpers/hedge-backend.ts';
import { waitFor } from './helpers/local-mesh.ts';

const MODEL = 'sim-llama-3-8b';
type Hedging = NonNullable<NonNullable<ConfigInput['router']>['hedging']>;

async function startRouter(urls: string[], hedging: Hedging, workers = 1): Promise<RunningMeshd> {
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    // In memory: a test's control records must not outlive it or land in the checkout.
    control: { store: { embedded: { path: ':memory:' } } },
    node: { id: 'test-node', roles: ['router', 'gpu'] },
    api: { port: 0 },
    metrics: { port: 0 },
    log: { level: 'silent' },
    router: { listen: { port: 0 }, workers, hedging },
    // Round-robin: consecutive requests alternate, so the slow endpoint is the first choice of half.
    scoring: { profile: 'round-robin' },
    gpu: {
      scrapeIntervalMs: 100,
      runtimes: urls.map((url, i) => ({ name: `ep-${i}`, url, runtime: 'vllm' as const })),
    },
  });
  const meshd = await startMeshd(config, createLogger('silent'));
  await waitFor(
    async () => {
      const res = await fetch(`${meshd.routerUrl}/v1/models`);
      if (!res.ok) return false;
      const models = (await res.json()) as { data: unknown[] };
      // Every endpoint scraped: the model is served and both endpoints are routable.
      return (
        models.data.length > 0 &&
        meshd.store.list().filter((s) => s.health !== 'unhealthy').length === urls.length
      );
    },
    10_000,
    'endpoints scraped',
  );
  return meshd;
}

async function complete(
  meshd: RunningMeshd,
  stream: boolean,
): Promise<{ status: number; text: string; endpoint: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${meshd.routerUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt: 'hello there', max_tokens: 8, stream }),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    endpoint: res.headers.get('x-infermesh-endpoint') ?? '',
    ms: performance.now() - t0,
  };
}

/** Sum of a counter's samples whose labels include `labels` (e.g. `reason="cap"`). */
async function counter(meshd: RunningMeshd, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${meshd.metricsUrl}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    if (labels === '' || (m[1] ?? '').includes(labels)) sum += Number(m[2]);
  }
  return sum;
}

/** Asserts one clean SSE stream: every chunk from one upstream answer, one `[DONE]`, at the end. */
function assertCleanStream(text: string): void {
  assert.match(text, /data: \[DONE\]\n\n$/);
  assert.equal(text.split('data: [DONE]').length, 2, text);
  const ids = new Set([...text.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]));
  assert.equal(ids.size, 1, `chunks from more than one answer: ${[...ids].join(', ')}`);
}

for (const workers of [1, 2]) {
  describe(`a straggler simulator (router.workers ${workers})`, () => {
    const sims: SimServer[] = [];
    let clock: StragglerClock;
    let meshd: RunningMeshd;
    after(async () => {
      await meshd?.stop();
      await Promise.all(sims.map((s) => s.close()));
    });

    test('the hedge wins, the client gets one clean stream and the straggler sees the cancellation', async () => {
      clock = createStragglerClock();
      sims.push(await createSimServer({ model: MODEL, profile: 'h100', seed: 1, clock }));
      sims.push(await createSimServer({ model: MODEL, profile: 'h100', seed: 2 }));
      meshd = await startRouter(
        sims.map((s) => s.url),
        { enabled: true, budget: 'fixed', fixedBudgetMs: 150, maxExtraPercent: 100, burst: 10 },
        workers,
      );
      clock.setSlowdown(100); // a first token takes seconds on ep-0
      const slow = sims[0]!;
      for (let i = 0; i < 4; i++) {
        const r = await complete(meshd, true);
        assert.equal(r.status, 200, r.text);
        assertCleanStream(r.text);
        assert.equal(r.endpoint, 'test-node/ep-1', 'the straggler never answers first');
        assert.ok(r.ms < 1500, `answered in ${Math.round(r.ms)} ms`);
      }
      const won = await counter(meshd, 'infermesh_router_hedges_won_total');
      assert.ok(won >= 1, `hedges won: ${won}`);
      assert.equal(await counter(meshd, 'infermesh_router_hedges_total'), won);
      assert.equal(await counter(meshd, 'infermesh_router_hedges_cancelled_total', 'attempt="primary"'), won);
      // The simulator aborted every losing request: nothing of them runs on.
      await waitFor(() => slow.engine.stats().cancelled === won, 5000, 'the straggler to count the aborts');
      assert.equal(slow.engine.stats().running + slow.engine.stats().waiting, 0);
      // Every attempt's lease ended: nothing stays in flight in the engine's books.
      await waitFor(
        async () => (await counter(meshd, 'infermesh_router_in_flight_requests')) === 0,
        5000,
        'no request left in flight',
      );
    });
  });
}

describe('scripted backends', () => {
  const backends: HedgeBackend[] = [];
  const meshds: RunningMeshd[] = [];
  after(async () => {
    await Promise.all(meshds.map((m) => m.stop()));
    await Promise.all(backends.map((b) => b.close()));
  });
  const setUp = async (
    hedging: Hedging,
    slowMs: number,
  ): Promise<[RunningMeshd, HedgeBackend, HedgeBackend]> => {
    const slow = await startHedgeBackend(MODEL, slowMs);
    const fast = await startHedgeBackend(MODEL, 0);
    backends.push(slow, fast);
    const meshd = await startRouter([slow.url, fast.url], hedging);
    meshds.push(meshd);
    return [meshd, slow, fast];
  };

  test('the losing upstream request is aborted: the backend sees its connection close', async () => {
    const [meshd, slow, fast] = await setUp(
      { enabled: true, budget: 'fixed', fixedBudgetMs: 100, maxExtraPercent: 100 },
      5000,
    );
    for (let i = 0; i < 2; i++) {
      const r = await complete(meshd, true);
      assert.equal(r.status, 200, r.text);
      assertCleanStream(r.text);
      assert.match(r.text, new RegExp(fast.url));
      assert.ok(r.ms < 2000, `answered in ${Math.round(r.ms)} ms`);
    }
    // Every request whose first choice was the slow backend was hedged, and its copy there aborted.
    assert.ok(slow.requests >= 1);
    await waitFor(() => slow.aborted === slow.requests, 3000, 'the slow backend to see the aborts');
    assert.equal(fast.completed, 2);
    assert.equal(slow.completed, 0);
    assert.equal(await counter(meshd, 'infermesh_router_hedges_won_total'), slow.requests);
  });

  test('no hedge when the first token arrives within the budget (p95 mode)', async () => {
    const [meshd, slow, fast] = await setUp({ enabled: true, budget: 'p95', minBudgetMs: 500 }, 0);
    for (let i = 0; i < 10; i++) {
      const r = await complete(meshd, true);
      assert.equal(r.status, 200, r.text);
      assertCleanStream(r.text);
    }
    assert.equal(await counter(meshd, 'infermesh_router_hedges_total'), 0);
    assert.equal(slow.requests + fast.requests, 10);
    assert.equal(slow.aborted + fast.aborted, 0);
  });

  test('non-streamed requests are hedged on the whole answer', async () => {
    const [meshd, slow, fast] = await setUp(
      { enabled: true, budget: 'fixed', fixedBudgetMs: 150, maxExtraPercent: 100 },
      5000,
    );
    for (let i = 0; i < 2; i++) {
      const r = await complete(meshd, false);
      assert.equal(r.status, 200, r.text);
      assert.equal((JSON.parse(r.text) as { choices: unknown[] }).choices.length, 1);
      assert.ok(r.ms < 2000, `answered in ${Math.round(r.ms)} ms`);
    }
    assert.ok(slow.requests >= 1);
    await waitFor(() => slow.aborted === slow.requests, 3000, 'the slow backend to see the aborts');
    assert.equal(fast.completed, 2);
    assert.equal(await counter(meshd, 'infermesh_router_hedges_won_total'), slow.requests);
  });

  test('the extra-load cap holds over a burst', async () => {
    const [meshd, slow] = await setUp(
      { enabled: true, budget: 'fixed', fixedBudgetMs: 100, maxExtraPercent: 10, burst: 1 },
      800,
    );
    const results = await Promise.all(Array.from({ length: 20 }, () => complete(meshd, true)));
    for (const r of results) {
      assert.equal(r.status, 200, r.text);
      assertCleanStream(r.text);
    }
    const hedges = await counter(meshd, 'infermesh_router_hedges_total');
    const capped = await counter(meshd, 'infermesh_router_hedges_suppressed_total', 'reason="cap"');
    // At most burst + 10% of 20 requests; every other late request was held back by the cap.
    assert.ok(hedges <= 3, `hedges: ${hedges}`);
    assert.ok(hedges >= 1, `hedges: ${hedges}`);
    assert.equal(
      hedges + capped,
      slow.requests,
      `${hedges} hedged + ${capped} capped of ${slow.requests} late`,
    );
  });

  test('no hedge when the fleet is saturated', async () => {
    const [meshd, slow, fast] = await setUp(
      { enabled: true, budget: 'fixed', fixedBudgetMs: 100, maxExtraPercent: 100, saturatedQueueDepth: 8 },
      600,
    );
    slow.waiting = 50;
    fast.waiting = 50;
    await waitFor(
      () => meshd.store.list().every((s) => s.queueDepth === 50),
      5000,
      'the queues to be scraped',
    );
    for (let i = 0; i < 2; i++) {
      const r = await complete(meshd, true);
      assert.equal(r.status, 200, r.text);
      assertCleanStream(r.text);
    }
    assert.equal(await counter(meshd, 'infermesh_router_hedges_total'), 0);
    assert.ok(slow.requests >= 1);
    assert.equal(
      await counter(meshd, 'infermesh_router_hedges_suppressed_total', 'reason="saturated"'),
      slow.requests,
    );
    assert.equal(slow.aborted + fast.aborted, 0);
  });
});
