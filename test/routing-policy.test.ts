// The control plane's routing policy reaches the router: drains (graceful and forced), pins and
// tenant quotas, on one thread and on two worker threads, in front of two scripted backends on two
// nodes (`helpers/policy-router.ts`: the router role in-process, the policy from a feed the test sets).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { EMPTY_ROUTING_POLICY, type RoutingPolicy } from '../src/control/routing-policy.ts';
import { startScriptedBackend, type ScriptedBackend } from './helpers/scripted-backend.ts';
import { chatCompletion } from './helpers/chat-request.ts';
import { startPolicyRouter, type PolicyRouter } from './helpers/policy-router.ts';

const MODEL = 'm';

/** Polls `check` until true (bounded); this file stays clear of meshd (`helpers/local-mesh.ts`). */
async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const TENANTS = {
  acme: { defaultSloClass: 'latency' as const },
  globex: { defaultSloClass: 'latency' as const },
};

/** Answers at once, or streams one chunk every 20 ms (`"long": true`: until cut, else 5 chunks). */
async function backend(): Promise<ScriptedBackend> {
  return startScriptedBackend(MODEL, (req, res, body) => {
    const json = JSON.parse(body) as { stream?: boolean; long?: boolean };
    if (!json.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'chat.completion', choices: [{ message: { content: 'ok' } }] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let n = 0;
    const timer = setInterval(() => {
      res.write(`data: {"choices":[{"delta":{"content":"${n}"}}]}\n\n`);
      if (++n === 5 && !json.long) {
        clearInterval(timer);
        res.end('data: [DONE]\n\n');
      }
    }, 20);
    res.on('close', () => clearInterval(timer));
  });
}

type Router = PolicyRouter;

const startRouter = (workers: number, backends: Record<string, ScriptedBackend>) =>
  startPolicyRouter({
    model: MODEL,
    workers,
    backends,
    tenants: TENANTS,
    scoring: { profile: 'least-outstanding' },
  });

const policy = (p: Partial<RoutingPolicy>): RoutingPolicy => ({
  ...EMPTY_ROUTING_POLICY,
  tenants: TENANTS,
  ...p,
});

const complete = (url: string, headers: Record<string, string> = {}, extra: object = {}) =>
  chatCompletion(url, MODEL, headers, extra);

/** Endpoints that answered `n` requests (as a sorted set). */
async function landing(url: string, n: number): Promise<string[]> {
  const all = await Promise.all(Array.from({ length: n }, () => complete(url)));
  for (const r of all) assert.equal(r.status, 200, r.text);
  return [...new Set(all.map((r) => String(r.endpoint)))].sort();
}

/** A streamed completion: resolves `firstChunk` at its first bytes, `done` with the whole body. */
function openStream(url: string, long: boolean) {
  let first!: () => void;
  const firstChunk = new Promise<void>((resolve) => (first = resolve));
  const done = (async () => {
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true, long }),
    });
    let text = '';
    for await (const chunk of res.body) {
      text += String(chunk);
      first();
    }
    return { status: res.statusCode, endpoint: String(res.headers['x-infermesh-endpoint']), text };
  })();
  return { firstChunk, done };
}

describe('one router thread', () => {
  let a: ScriptedBackend;
  let b: ScriptedBackend;
  let router: Router;
  before(async () => {
    [a, b] = await Promise.all([backend(), backend()]);
    router = await startRouter(1, { a, b });
  });
  after(async () => {
    await router.close();
    await Promise.all([a.close(), b.close()]);
  });

  test('a drained node gets no new requests; with both drained the answer is no_healthy_endpoint', async () => {
    const url = router.role.url;
    assert.deepEqual(await landing(url, 8), ['a/e', 'b/e']);
    router.feed.set(policy({ drains: [{ node: 'a', force: false }] }));
    const before = a.requests;
    assert.deepEqual(await landing(url, 8), ['b/e']);
    assert.equal(a.requests, before);
    router.feed.set(policy({ drains: [{ node: 'b', force: false }] }));
    assert.deepEqual(await landing(url, 8), ['a/e']);
    router.feed.set(
      policy({
        drains: [
          { node: 'a', force: false },
          { node: 'b', force: false },
        ],
      }),
    );
    const refused = await complete(url);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['mesh-error-code'], 'no_healthy_endpoint');
    router.feed.set(policy({}));
  });

  test('a graceful drain lets the stream in flight finish; a forced one cuts it', async () => {
    const url = router.role.url;
    router.feed.set(policy({ pins: [{ model: MODEL, nodes: ['a'], mode: 'require' }] }));
    const finishing = openStream(url, false);
    await finishing.firstChunk;
    router.feed.set(policy({ drains: [{ node: 'a', force: false }] }));
    const finished = await finishing.done;
    assert.equal(finished.endpoint, 'a/e');
    assert.match(finished.text, /"content":"4"[\s\S]*data: \[DONE\]\n\n$/);
    assert.doesNotMatch(finished.text, /"error"/);

    router.feed.set(policy({ pins: [{ model: MODEL, nodes: ['a'], mode: 'require' }] }));
    const long = openStream(url, true);
    await long.firstChunk;
    router.feed.set(policy({ drains: [{ node: 'a', force: true }] }));
    const cut = await long.done;
    assert.equal(cut.status, 200);
    assert.equal(cut.endpoint, 'a/e');
    assert.match(
      cut.text,
      /data: \{"error":\{"message":"[^"]*drained with force[^"]*","type":"service_unavailable_error"[^\n]*\n\ndata: \[DONE\]\n\n$/,
    );
    // Forced and drained: new requests go elsewhere.
    assert.deepEqual(await landing(url, 4), ['b/e']);
    router.feed.set(policy({}));
  });

  test('pin require: every request lands on the pinned node; prefer falls back when it is drained', async () => {
    const url = router.role.url;
    router.feed.set(policy({ pins: [{ model: MODEL, nodes: ['b'], mode: 'require' }] }));
    assert.deepEqual(await landing(url, 10), ['b/e']);
    router.feed.set(policy({ pins: [{ model: MODEL, nodes: ['b'], mode: 'prefer' }] }));
    assert.deepEqual(await landing(url, 10), ['b/e']);
    router.feed.set(
      policy({
        pins: [{ model: MODEL, nodes: ['b'], mode: 'prefer' }],
        drains: [{ node: 'b', force: false }],
      }),
    );
    assert.deepEqual(await landing(url, 6), ['a/e']);
    router.feed.set(
      policy({
        pins: [{ model: MODEL, nodes: ['b'], mode: 'require' }],
        drains: [{ node: 'b', force: false }],
      }),
    );
    assert.equal((await complete(url)).status, 503);
    router.feed.set(policy({}));
  });

  test('quota 5 req/s burst 5: the 6th request is refused with 429 and Retry-After; others unaffected', async () => {
    const url = router.role.url;
    router.feed.set(
      policy({
        quotas: [{ policy: 'acme-rps', models: [], tenant: 'acme', requestsPerSecond: 5, burstRequests: 5 }],
      }),
    );
    const acme = { 'x-mesh-tenant': 'acme' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => complete(url, acme)));
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 429]);
    const refused = answers.find((r) => r.status === 429)!;
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['mesh-error-code'], 'rate_limited');
    const body = JSON.parse(refused.text) as { error: { type: string; code: string; message: string } };
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(body.error.code, 'rate_limited');
    assert.match(body.error.message, /acme is over its quota/);
    assert.equal((await complete(url, acme)).status, 429);

    const others = await Promise.all(
      Array.from({ length: 8 }, () => complete(url, { 'x-mesh-tenant': 'globex' })),
    );
    assert.ok(others.every((r) => r.status === 200));
    assert.ok(
      (await Promise.all(Array.from({ length: 8 }, () => complete(url)))).every((r) => r.status === 200),
    );

    const unknown = await complete(url, { 'x-mesh-tenant': 'nobody' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /unknown tenant/);

    const exposition = await router.metrics.registry.metrics();
    assert.match(exposition, /^infermesh_quota_rejected_total\{tenant="acme",model="m"\} 2$/m);
    assert.deepEqual(router.exceeded, ['acme/m'], 'one event per tenant+model per 10 s');
    router.feed.set(policy({}));
  });
});

describe('two router worker threads', () => {
  let a: ScriptedBackend;
  let b: ScriptedBackend;
  let router: Router;
  before(async () => {
    [a, b] = await Promise.all([backend(), backend()]);
    router = await startRouter(2, { a, b });
  });
  after(async () => {
    await router.close();
    await Promise.all([a.close(), b.close()]);
  });

  const workerCounts = async () => {
    const all = await router.role.workerMetrics();
    return all.map(
      (json) =>
        json
          .find((m) => m.name === 'infermesh_router_worker_requests_total')
          ?.values.reduce((sum, v) => sum + v.value, 0) ?? 0,
    );
  };

  test('a drain reaches both workers', async () => {
    const url = router.role.url;
    assert.equal(router.role.workers, 2);
    router.feed.set(policy({ drains: [{ node: 'a', force: false }] }));
    const before = await workerCounts();
    // Fresh connections, which the kernel spreads over both workers.
    assert.deepEqual(await landing(url, 24), ['b/e']);
    const served = (await workerCounts()).map((n, i) => n - (before[i] ?? 0));
    assert.equal(served.length, 2);
    assert.ok(
      served.every((n) => n > 0),
      `both workers served: ${served.join(', ')}`,
    );
    router.feed.set(policy({ drains: [{ node: 'b', force: false }] }));
    assert.deepEqual(await landing(url, 24), ['a/e']);
    router.feed.set(policy({}));
  });

  test('one quota budget for the node, whichever worker a connection lands on', async () => {
    const url = router.role.url;
    router.feed.set(
      policy({
        quotas: [{ policy: 'q', models: [MODEL], tenant: 'acme', requestsPerSecond: 1, burstRequests: 6 }],
      }),
    );
    const answers = await Promise.all(
      Array.from({ length: 16 }, () => complete(url, { 'x-mesh-tenant': 'acme' })),
    );
    assert.equal(answers.filter((r) => r.status === 200).length, 6);
    assert.equal(answers.filter((r) => r.status === 429).length, 10);
    // The workers' refusals reach the role's hook on the main thread.
    await waitFor(() => router.exceeded.includes('acme/m'), 5000, 'quota_exceeded from a worker');
    router.feed.set(policy({}));
  });
});
