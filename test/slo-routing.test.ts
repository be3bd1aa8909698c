// SLO policies and tenants' default classes reach routing: admission's longest wait and the
// end-to-end deadline per class, a tenant's default class without a header, scorer weights per
// class, and the TTFT budget capping the hedge budget — on one router thread and on two worker
// threads, in front of two scripted backends on two nodes (`helpers/policy-router.ts`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_ROUTING_POLICY, type RoutingPolicy } from '../src/control/routing-policy.ts';
import { startScriptedBackend, type ScriptedBackend } from './helpers/scripted-backend.ts';
import { chatCompletion } from './helpers/chat-request.ts';
import { startPolicyRouter, type PolicyRouter } from './helpers/policy-router.ts';

const MODEL = 'm';
const TENANTS = {
  chat: { defaultSloClass: 'latency' as const },
  batch: { defaultSloClass: 'throughput' as const },
};
/** How long a backend named in a request's `slowOn` waits before its first byte. */
const SLOW_MS = 1500;

/** Streams 3 chunks (or answers whole); the backend on node `slowOn` first waits `SLOW_MS`. */
async function backend(node: string): Promise<ScriptedBackend> {
  return startScriptedBackend(MODEL, (_req, res, body) => {
    const json = JSON.parse(body) as { stream?: boolean; slowOn?: string };
    let timer: NodeJS.Timeout | undefined;
    res.on('close', () => clearTimeout(timer));
    const answer = () => {
      if (!json.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'chat.completion', choices: [{ message: { content: node } }] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let n = 0; n < 3; n++) res.write(`data: {"choices":[{"delta":{"content":"${n}"}}]}\n\n`);
      res.end('data: [DONE]\n\n');
    };
    if (json.slowOn === node) timer = setTimeout(answer, SLOW_MS);
    else answer();
  });
}

type Router = PolicyRouter;

const startRouter = (workers: number, backends: Record<string, ScriptedBackend>) =>
  startPolicyRouter({
    model: MODEL,
    workers,
    backends,
    tenants: TENANTS,
    router: {
      // Hedged only after 5 s unless an SLO policy's TTFT budget says sooner.
      hedging: { enabled: true, budget: 'p95', minBudgetMs: 5000, maxBudgetMs: 10_000 },
    },
    scoring: {
      profile: 'slo-test',
      profiles: {
        // Deterministic picks from scraped state alone: the queue outweighs KV use, unless a
        // policy takes its weight away.
        'slo-test': {
          scorers: [
            { type: 'kv-pressure', weight: 1, params: { source: 'scraped' } },
            { type: 'queue', weight: 3 },
          ],
        },
      },
    },
    defaults: { queueDepth: 0, kvCacheUsage: 0 },
  });

const policy = (p: Partial<RoutingPolicy>): RoutingPolicy => ({
  ...EMPTY_ROUTING_POLICY,
  tenants: TENANTS,
  ...p,
});

const complete = (url: string, headers: Record<string, string> = {}, extra: object = {}) =>
  chatCompletion(url, MODEL, headers, extra);

/** Statuses of `n` requests with `headers`, sorted. */
async function statuses(url: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const all = await Promise.all(Array.from({ length: n }, () => complete(url, headers)));
  return all.map((r) => r.status).sort();
}

/** Endpoints that answered `n` requests with `headers` (as a sorted set). */
async function landing(url: string, n: number, headers: Record<string, string> = {}): Promise<string[]> {
  const all = await Promise.all(Array.from({ length: n }, () => complete(url, headers)));
  for (const r of all) assert.equal(r.status, 200, r.text);
  return [...new Set(all.map((r) => r.endpoint))].sort();
}

const THROUGHPUT = { 'x-mesh-slo-class': 'throughput' };
const LATENCY = { 'x-mesh-slo-class': 'latency' };

/**
 * Both endpoints report 100 requests waiting: a predicted wait of seconds (100 × 1000 tokens at the
 * ~19k tokens/s prior for an unknown GPU), within latency's 10 s and throughput's 120 s by default.
 */
const QUEUED = { a: { queueDepth: 100 }, b: { queueDepth: 100 } };

describe('one router thread', () => {
  let a: ScriptedBackend;
  let b: ScriptedBackend;
  let router: Router;
  before(async () => {
    [a, b] = await Promise.all([backend('a'), backend('b')]);
    router = await startRouter(1, { a, b });
  });
  after(async () => {
    await router.close();
    await Promise.all([a.close(), b.close()]);
  });

  test('admission.maxWaitMs of a class refuses its requests (429); the other class and tenant defaults follow', async () => {
    const url = router.role.url;
    router.state(QUEUED);
    assert.deepEqual(await statuses(url, 2), [200, 200], 'queued, yet within the default limits');
    router.feed.set(
      policy({ slo: [{ policy: 'tight', models: [], class: 'latency', admission: { maxWaitMs: 1 } }] }),
    );
    const refused = await complete(url);
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.code, 'rate_limited');
    assert.match(refused.text, /predicted wait \d+ ms exceeds 1 ms/);
    assert.deepEqual(await statuses(url, 2, LATENCY), [429, 429]);
    assert.deepEqual(await statuses(url, 2, THROUGHPUT), [200, 200]);
    // A tenant whose default class is throughput gets throughput treatment without a header ...
    assert.deepEqual(await statuses(url, 2, { 'x-mesh-tenant': 'batch' }), [200, 200]);
    assert.deepEqual(await statuses(url, 2, { 'x-mesh-tenant': 'chat' }), [429, 429]);
    // ... and the header beats the tenant's default.
    assert.deepEqual(await statuses(url, 2, { 'x-mesh-tenant': 'batch', ...LATENCY }), [429, 429]);
    assert.deepEqual(await statuses(url, 2, { 'x-mesh-tenant': 'chat', ...THROUGHPUT }), [200, 200]);
    // A rule naming the model beats the general one.
    router.feed.set(
      policy({
        slo: [
          { policy: 'tight', models: [], class: 'latency', admission: { maxWaitMs: 1 } },
          { policy: 'loose', models: [MODEL], class: 'latency', admission: { maxWaitMs: 600_000 } },
        ],
      }),
    );
    assert.deepEqual(await statuses(url, 2), [200, 200]);
    router.feed.set(policy({}));
    assert.deepEqual(await statuses(url, 2), [200, 200]);
    router.state({});
  });

  test('e2eMs is the deadline of a request that sends no x-mesh-timeout-ms', async () => {
    const url = router.role.url;
    router.state(QUEUED);
    router.feed.set(
      policy({ slo: [{ policy: 'batch-e2e', models: [MODEL], class: 'throughput', e2eMs: 500 }] }),
    );
    assert.deepEqual(await statuses(url, 2, { 'x-mesh-tenant': 'batch' }), [429, 429]);
    assert.deepEqual(
      await statuses(url, 2, { 'x-mesh-tenant': 'batch', 'x-mesh-timeout-ms': '600000' }),
      [200, 200],
      "the client's own timeout is the deadline",
    );
    assert.deepEqual(await statuses(url, 2), [200, 200], 'latency traffic is untouched');
    router.feed.set(policy({}));
    router.state({});
  });

  test("a policy's weights change the pick for its class only", async () => {
    const url = router.role.url;
    // a: KV nearly full, empty queue; b: free KV, one waiting. The queue's weight 3 picks a.
    router.state({ a: { kvCacheUsage: 0.9 }, b: { queueDepth: 1 } });
    assert.deepEqual(await landing(url, 6), ['a/e']);
    assert.deepEqual(await landing(url, 6, THROUGHPUT), ['a/e']);
    router.feed.set(
      policy({ slo: [{ policy: 'no-queue', models: [], class: 'throughput', weights: { queue: 0 } }] }),
    );
    assert.deepEqual(await landing(url, 6, THROUGHPUT), ['b/e']);
    assert.deepEqual(
      await landing(url, 6, { 'x-mesh-tenant': 'batch' }),
      ['b/e'],
      "the tenant's default class",
    );
    assert.deepEqual(await landing(url, 6), ['a/e'], 'latency keeps the profile weights');
    router.feed.set(policy({}));
    router.state({});
  });

  test("ttftMs caps the hedge budget: a request late past its class's TTFT budget is hedged", async () => {
    const url = router.role.url;
    const hedges = async () => {
      const text = await router.metrics.registry.metrics();
      let sum = 0;
      for (const m of text.matchAll(/^infermesh_router_hedges_total(?:\{[^}]*\})? (\S+)$/gm))
        sum += Number(m[1]);
      return sum;
    };
    // b's fuller KV makes a the first choice; a is slow for these requests.
    router.state({ b: { kvCacheUsage: 0.5 } });
    const slow = { stream: true, slowOn: 'a' };
    const before = await hedges();
    const unhedged = await complete(url, {}, slow);
    assert.equal(unhedged.status, 200, unhedged.text);
    assert.equal(unhedged.endpoint, 'a/e', 'the 5 s minimum budget outlasts the slow first byte');
    assert.equal(await hedges(), before);

    router.feed.set(
      policy({ slo: [{ policy: 'fast-ttft', models: [MODEL], class: 'latency', ttftMs: 100 }] }),
    );
    const hedged = await complete(url, {}, slow);
    assert.equal(hedged.status, 200, hedged.text);
    assert.equal(hedged.endpoint, 'b/e', 'the hedge on b answered first');
    assert.match(hedged.text, /data: \[DONE\]/);
    assert.equal(await hedges(), before + 1);
    // Throughput requests keep config's budget.
    const batch = await complete(url, THROUGHPUT, slow);
    assert.equal(batch.endpoint, 'a/e');
    assert.equal(await hedges(), before + 1);
    router.feed.set(policy({}));
    router.state({});
  });
});

describe('two router worker threads', () => {
  let a: ScriptedBackend;
  let b: ScriptedBackend;
  let router: Router;
  before(async () => {
    [a, b] = await Promise.all([backend('a'), backend('b')]);
    router = await startRouter(2, { a, b });
  });
  after(async () => {
    await router.close();
    await Promise.all([a.close(), b.close()]);
  });

  test('SLO policies and tenant defaults reach both workers', async () => {
    const url = router.role.url;
    assert.equal(router.role.workers, 2);
    router.state(QUEUED);
    router.feed.set(
      policy({ slo: [{ policy: 'tight', models: [], class: 'latency', admission: { maxWaitMs: 1 } }] }),
    );
    // Fresh connections, which the kernel spreads over both workers.
    const waitFor = async (check: () => Promise<boolean>) => {
      const deadline = performance.now() + 5000;
      while (!(await check())) {
        if (performance.now() > deadline)
          throw new Error('timed out waiting for the policy to reach the workers');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waitFor(async () => (await statuses(url, 8)).every((s) => s === 429));
    assert.deepEqual(await statuses(url, 12), Array<number>(12).fill(429));
    assert.deepEqual(await statuses(url, 12, { 'x-mesh-tenant': 'batch' }), Array<number>(12).fill(200));
    router.state({ a: { kvCacheUsage: 0.9 }, b: { queueDepth: 1 } });
    router.feed.set(
      policy({ slo: [{ policy: 'no-queue', models: [], class: 'throughput', weights: { queue: 0 } }] }),
    );
    await waitFor(async () => (await landing(url, 4, THROUGHPUT)).join() === 'b/e');
    assert.deepEqual(await landing(url, 12, THROUGHPUT), ['b/e']);
    assert.deepEqual(await landing(url, 12), ['a/e']);
    router.feed.set(policy({}));
  });
});
