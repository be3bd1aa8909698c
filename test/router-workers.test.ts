// The router on two worker threads sharing one port: bursts that the kernel splits over the
// workers still land as one router would place them, and /metrics sums the workers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startLocalMesh, waitFor, type LocalMesh } from './helpers/local-mesh.ts';

let mesh: LocalMesh;
before(async () => {
  // least-outstanding ranks by in-flight count alone: one router spreads a burst of 4 over 4
  // idle endpoints exactly, whatever their GPUs, so any pile-up shows a split decision.
  mesh = await startLocalMesh({
    sims: 4,
    timeScale: 4,
    router: { workers: 2 },
    scoring: { profile: 'least-outstanding' },
  });
  await waitFor(async () => {
    const res = await fetch(`${mesh.routerUrl}/v1/models`);
    return ((await res.json()) as { data: unknown[] }).data.length > 0;
  }, 10_000);
});
after(() => mesh.close());

/** One streamed completion on its own connection; resolves with the endpoint once the stream ends. */
async function stream(agent: Agent): Promise<string> {
  const res = await request(`${mesh.routerUrl}/v1/completions`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hello', max_tokens: 48, stream: true }),
  });
  const text = await res.body.text();
  assert.equal(res.statusCode, 200, text);
  assert.match(text, /data: \[DONE\]\n\n$/);
  return String(res.headers['x-infermesh-endpoint']);
}

async function workerCounts(): Promise<number[]> {
  const text = await (await fetch(`${mesh.meshd.metricsUrl}/metrics`)).text();
  return [...text.matchAll(/^infermesh_router_worker_requests_total\{worker="(\d+)"\} (\d+)/gm)].map((m) =>
    Number(m[2]),
  );
}

test('bursts split over two workers place one stream per endpoint, as one router would', async () => {
  assert.equal(mesh.meshd.routerWorkers, 2);
  const before = await workerCounts();
  for (let round = 0; round < 3; round++) {
    // A fresh agent per round: four new connections, spread over the workers by the kernel.
    const agent = new Agent({ connections: 4 });
    const endpoints = await Promise.all([0, 1, 2, 3].map(() => stream(agent)));
    await agent.close();
    assert.deepEqual(
      endpoints.sort(),
      ['test-node/sim-0', 'test-node/sim-1', 'test-node/sim-2', 'test-node/sim-3'],
      `round ${round}: ${endpoints.join(', ')}`,
    );
  }
  const after = await workerCounts();
  const served = after.map((n, i) => n - (before[i] ?? 0));
  assert.equal(
    served.reduce((a, b) => a + b, 0),
    12,
  );
  assert.ok(served.filter((n) => n > 0).length === 2, `both workers served requests: ${served.join(', ')}`);
});

test('/metrics sums the workers: every routed request is counted once, none stays in flight', async () => {
  const text = await (await fetch(`${mesh.meshd.metricsUrl}/metrics`)).text();
  const ok = [...text.matchAll(/^infermesh_router_requests_total\{[^}]*code="ok"[^}]*\} (\d+)/gm)];
  assert.equal(
    ok.reduce((sum, m) => sum + Number(m[1]), 0),
    12,
  );
  const inFlight = [...text.matchAll(/^infermesh_router_in_flight_requests\{[^}]*\} (\d+)/gm)];
  assert.equal(inFlight.length, 4);
  assert.ok(inFlight.every((m) => m[1] === '0'));
  assert.match(
    text,
    /^infermesh_router_ttft_seconds_count\{model="sim-llama-3-8b",endpoint="test-node\/sim-0"\} 3$/m,
  );
});
