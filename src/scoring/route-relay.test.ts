import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../core/testing/model-state.ts';
import { createScoringEngine, type ScoringEngine } from './engine.ts';
import { createRouteRelay, type RelayedEvent } from './route-relay.ts';

/** A router's engine over endpoints n1/a and n1/b (node n1, H100) and n2/c (node n2). */
function router(now: { t: number }): ScoringEngine {
  const engine = createScoringEngine({ now: () => now.t, serviceRates: { H100: 10_000 } });
  for (const id of ['n1/a', 'n1/b']) engine.fleet.upsert(modelState(id, { gpuType: 'H100' }));
  engine.fleet.upsert(modelState('n2/c', { node: 'n2', gpuType: 'H100' }));
  return engine;
}

const hashes = Array.from({ length: 32 }, (_, i) => 7000 + i);

test("a router's own requests on the node's endpoints are told in order; others' and other nodes' are not", () => {
  const now = { t: 0 };
  const engine = router(now);
  const relay = createRouteRelay(engine, 'n1');
  const a = engine.fleet.get('n1/a', 'm')!;
  const t1 = engine.routed(a, { model: 'm', promptTokens: 1000, maxTokens: 100, blockHashes: [1, 2] });
  engine.routed(engine.fleet.get('n2/c', 'm')!, { model: 'm', promptTokens: 10 });
  engine.finished(t1, { ok: true });
  const told = relay.take();
  assert.deepEqual(
    told.map((e) => ({ ...e, request: 0 })),
    [
      {
        kind: 'routed',
        request: 0,
        endpointId: 'n1/a',
        model: 'm',
        promptTokens: 1000,
        maxTokens: 100,
        blockHashes: [1, 2],
      },
      { kind: 'finished', request: 0, endpointId: 'n1/a', model: 'm', ok: true },
    ],
  );
  assert.equal(told[0]!.request, told[1]!.request, 'one request, routed then finished');
  assert.deepEqual(relay.take(), [], 'each event is told once');
  // Another router's request, counted here, is not told on.
  relay.apply('r2', [
    {
      kind: 'routed',
      request: 9,
      endpointId: 'n1/b',
      model: 'm',
      promptTokens: 10,
      maxTokens: 1,
      blockHashes: [],
    },
  ]);
  assert.deepEqual(relay.take(), []);
  relay.close();
  engine.routed(a, { model: 'm', promptTokens: 5 });
  assert.deepEqual(relay.take(), [], 'closed: nothing more is taken');
});

test("another router's request counts as this router's own until it ends: load, queue and prefix", () => {
  const now = { t: 1000 };
  const engine = router(now);
  const relay = createRouteRelay(engine, 'n1');
  const a = engine.fleet.get('n1/a', 'm')!;
  const b = engine.fleet.get('n1/b', 'm')!;
  const idleWait = engine.predictWaitMs(a);
  const sent: RelayedEvent = {
    kind: 'routed',
    request: 42,
    endpointId: 'n1/a',
    model: 'm',
    promptTokens: 16 * 512,
    maxTokens: 256,
    blockHashes: hashes,
  };
  relay.apply('r2', [sent]);
  assert.equal(a.inFlight, 1);
  assert.equal(a.inFlightTokens, 16 * 512 + 256);
  assert.ok(engine.predictWaitMs(a) > idleWait + 500, 'its prefill queues at the endpoint');
  // Its first token, early, moves the queue up as this router's own would.
  const queued = engine.predictWaitMs(a);
  now.t += 10;
  relay.apply('r2', [{ kind: 'first', request: 42, endpointId: 'n1/a', model: 'm', ttftMs: 10 }]);
  assert.ok(engine.predictWaitMs(a) < queued - 500, 'the prefill ended: the queue moved up');
  // A short request without the prefix avoids the queue.
  assert.notEqual(engine.decide({ model: 'm', promptTokens: 100 }).target, a);
  relay.apply('r2', [{ kind: 'finished', request: 42, endpointId: 'n1/a', model: 'm', ok: true }]);
  assert.equal(a.inFlight, 0);
  assert.equal(a.inFlightTokens, 0);
  // A follow-up sharing its prompt goes where that prompt is cached, though another router sent it.
  const followUp = engine.decide({ model: 'm', promptTokens: 16 * 512 + 100, blockHashes: hashes });
  assert.equal(followUp.target.endpointId, 'n1/a');
  assert.deepEqual(
    [a.prefixMatch, b.prefixMatch],
    [hashes.length, 0],
    'the relayed prompt blocks are in the prefix index',
  );
  // An end for a request never seen (sent before this router joined) changes nothing.
  relay.apply('r2', [{ kind: 'finished', request: 7, endpointId: 'n1/a', model: 'm', ok: true }]);
  assert.equal(a.inFlight, 0);
});

test('a router that leaves (not live, or the link closes) has its open requests ended', () => {
  const now = { t: 0 };
  const engine = router(now);
  const relay = createRouteRelay(engine, 'n1');
  const a = engine.fleet.get('n1/a', 'm')!;
  const routed = (request: number): RelayedEvent => ({
    kind: 'routed',
    request,
    endpointId: 'n1/a',
    model: 'm',
    promptTokens: 100,
    maxTokens: 10,
    blockHashes: [],
  });
  relay.apply('r2', [routed(1), routed(2)]);
  relay.apply('r3', [routed(1)]);
  assert.equal(a.inFlight, 3, 'requests are per router: r3’s 1 is not r2’s 1');
  relay.live(['r3']);
  assert.equal(a.inFlight, 1, 'r2 is gone: its two end');
  relay.close();
  assert.equal(a.inFlight, 0);
});
