// Active-active routers: three in-process routers follow one GPU node (two simulators) and relay
// their routing through it (`StatePlane.ShareInFlight`). A burst through one router shows in the
// others' decisions long before the next scrape, nobody counts its own requests twice, and a
// router that goes away (stream closed, or silent past the TTL) stops counting.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { parseConfig, type ConfigInput } from '../src/core/config.ts';
import { startMeshd, type RunningMeshd } from '../src/agent/meshd.ts';
import { createLogger } from '../src/observability/log.ts';
import { Scoring } from '../src/gen/infermesh/scoring/v1/scoring_pb.js';
import {
  InFlightReportSchema,
  RouteEvent_Kind,
  StatePlane,
  type InFlightReport,
} from '../src/gen/infermesh/state/v1/state_pb.js';
import { waitFor } from './helpers/local-mesh.ts';

const MODEL = 'sim-llama-3-8b';
/** Long enough that nothing in these tests is explained by a scrape. */
const SCRAPE_MS = 20_000;

function meshd(input: Omit<ConfigInput, 'apiVersion'>): Promise<RunningMeshd> {
  return startMeshd(
    parseConfig({
      apiVersion: 'infermesh/v1',
      // In memory: a test's control records must not outlive it or land in the checkout.
      control: { store: { embedded: { path: ':memory:' } } },
      api: { port: 0 },
      metrics: { port: 0 },
      log: { level: 'silent' },
      ...input,
    }),
    createLogger('silent'),
  );
}

let gpu: RunningMeshd;
const routers = new Map<string, RunningMeshd>();
const held: AbortController[] = [];

before(async () => {
  gpu = await meshd({
    node: { id: 'gpu-1', roles: ['gpu'] },
    gpu: {
      scrapeIntervalMs: SCRAPE_MS,
      simulators: [0, 1].map((i) => ({
        name: `h100-${i}`,
        profile: 'h100' as const,
        timeScale: 1,
        seed: i + 1,
      })),
    },
  });
  for (const id of ['router-a', 'router-b', 'router-c']) {
    routers.set(
      id,
      await meshd({
        node: { id, roles: ['router'] },
        router: { listen: { port: 0 }, workers: 1, peers: [{ id: 'gpu-1', url: gpu.apiUrl }] },
      }),
    );
  }
});

after(async () => {
  for (const c of held) c.abort();
  for (const r of routers.values()) await r.stop();
  await gpu.stop();
});

/** Requests in flight per endpoint as `router` counts them (its own + relayed), from ScoreTargets. */
async function counted(router: string): Promise<number> {
  const scoring = createClient(Scoring, createGrpcTransport({ baseUrl: routers.get(router)!.apiUrl }));
  const res = await scoring.scoreTargets({ model: MODEL, profile: 'least-outstanding', topK: 10 });
  // least-outstanding's in-flight scorer: 1 / (1 + n).
  return res.targets.reduce((sum, t) => sum + Math.round(1 / (t.scores['in-flight'] ?? 1) - 1), 0);
}

/** Starts `n` long streamed requests through `router` and returns once each has its headers. */
async function hold(router: string, n: number): Promise<AbortController> {
  const c = new AbortController();
  held.push(c);
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await fetch(`${routers.get(router)!.routerUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          // Distinct prompts (no prefix shared between them), answers long enough to stay in flight.
          prompt: `${router} ${i} ${held.length} ` + 'x '.repeat(3000),
          max_tokens: 4000,
          sim_output_tokens: 4000,
          stream: true,
        }),
        signal: c.signal,
      });
      assert.equal(res.status, 200);
      // Read and drop the stream in the background (an unread body may be collected and cancelled).
      void res.body?.pipeTo(new WritableStream()).catch(() => undefined);
    }),
  );
  return c;
}

test('a burst through one router is in the others’ view before the next scrape, counted once', async () => {
  for (const id of routers.keys())
    await waitFor(
      () =>
        counted(id).then(
          () => true,
          () => false,
        ),
      10_000,
      `${id} to learn the endpoints`,
    );
  const t0 = performance.now();
  await hold('router-a', 6);
  await waitFor(async () => (await counted('router-b')) === 6, 10_000, 'router-b to count router-a’s 6');
  const visibleMs = performance.now() - t0;
  assert.ok(visibleMs < SCRAPE_MS / 4, `visible after ${visibleMs} ms`);
  // (What a relayed request does to the queue, the prefix index and learned speed: route-relay.test.ts.)
  await waitFor(async () => (await counted('router-c')) === 6, 10_000, 'router-c to count them');
  assert.equal(await counted('router-a'), 6, 'router-a counts its own once');

  await hold('router-c', 2);
  for (const id of routers.keys())
    await waitFor(async () => (await counted(id)) === 8, 10_000, `${id} to count 6 + 2`);
});

test('a router that stops no longer counts at the others', async () => {
  const a = routers.get('router-a')!;
  routers.delete('router-a');
  held[0]!.abort();
  await a.stop();
  await waitFor(async () => (await counted('router-b')) === 2, 10_000, 'router-b to drop router-a’s load');
  assert.equal(await counted('router-c'), 2);
});

test('a router silent past the TTL expires; one whose stream closes is dropped at once', async () => {
  const state = createClient(StatePlane, createGrpcTransport({ baseUrl: gpu.apiUrl }));
  // A router that sent n requests to one endpoint (and has not said they ended).
  const ghost = (n: number): InFlightReport =>
    create(InFlightReportSchema, {
      routerId: 'ghost',
      events: Array.from({ length: n }, (_, i) => ({
        kind: RouteEvent_Kind.ROUTED,
        request: BigInt(i + 1),
        endpointId: 'gpu-1/h100-0',
        model: MODEL,
        promptTokens: 100,
        maxTokens: 100,
      })),
    });
  // A router whose process hangs: one report, then silence with the stream still open.
  const silent = new AbortController();
  let ttlMs = 0;
  const stream = (async function* () {
    yield ghost(5);
    await new Promise((r) => silent.signal.addEventListener('abort', r));
  })();
  const reading = (async () => {
    for await (const share of state.shareInFlight(stream, { signal: silent.signal })) ttlMs = share.ttlMs;
  })().catch(() => undefined);
  await waitFor(async () => (await counted('router-b')) === 7, 10_000, 'router-b to count the ghost');
  const t0 = performance.now();
  await waitFor(async () => (await counted('router-b')) === 2, ttlMs + 5000, 'the ghost to expire');
  assert.ok(performance.now() - t0 >= ttlMs / 2, 'expired by the TTL, not at once');
  silent.abort();
  await reading;

  // A router that closes its stream is forgotten without waiting for the TTL.
  const closing = new AbortController();
  const once = (async function* () {
    yield ghost(3);
    await new Promise((r) => setTimeout(r, 300));
  })();
  const done = (async () => {
    for await (const _ of state.shareInFlight(once, { signal: closing.signal }));
  })().catch(() => undefined);
  await waitFor(async () => (await counted('router-b')) === 5, 10_000, 'router-b to count the second ghost');
  await done;
  const t1 = performance.now();
  await waitFor(async () => (await counted('router-b')) === 2, 10_000, 'the closed stream to be dropped');
  assert.ok(performance.now() - t1 < ttlMs, 'dropped before the TTL');
  closing.abort();
});
