import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../core/testing/model-state.ts';
import { createScoringEngine } from './engine.ts';
import { decodeEvent, encodeEvent, RecordBuffer } from './journal/codec.ts';
import type { PeerLoadEvent } from './journal/events.ts';
import { createPeerLoadTracker } from './peer-load.ts';

function twoEndpoints(now: { t: number }) {
  const engine = createScoringEngine({ now: () => now.t, serviceRates: { H100: 10_000 } });
  for (const id of ['n1/a', 'n1/b']) engine.fleet.upsert(modelState(id, { gpuType: 'H100' }));
  return engine;
}

test('a router reports its own load per endpoint of one node, with counters of what it sent', () => {
  const now = { t: 0 };
  const engine = twoEndpoints(now);
  engine.fleet.upsert(modelState('n2/c', { node: 'n2' }));
  const a = engine.fleet.get('n1/a', 'm')!;
  engine.routed(a, { model: 'm', promptTokens: 1000, maxTokens: 100 });
  const t = engine.routed(a, { model: 'm', promptTokens: 500 });
  engine.finished(t, { ok: true });
  const tracker = createPeerLoadTracker(engine, 'r1');
  const [own, ...rest] = tracker.ownReport('n1');
  assert.equal(rest.length, 0);
  assert.deepEqual(
    { ...own, sentWork: 0 },
    {
      endpointId: 'n1/a',
      model: 'm',
      inFlight: 1,
      inFlightTokens: 1100,
      sentRequests: 2,
      sentWork: 0,
    },
  );
  // Prefill work in linear tokens: a little over the prompt tokens (attention, `prefillWork`).
  assert.ok(own!.sentWork > 1500 && own!.sentWork < 1600, String(own!.sentWork));
  assert.deepEqual(tracker.ownReport('n2'), []);
});

test("others' levels add to the view, their sends queue in its one timeline, its own report is ignored", () => {
  const now = { t: 1000 };
  const engine = twoEndpoints(now);
  const a = engine.fleet.get('n1/a', 'm')!;
  const tracker = createPeerLoadTracker(engine, 'me');
  const report = (routerId: string, inFlight: number, sent: number) => ({
    routerId,
    endpoints: [
      {
        endpointId: 'n1/a',
        model: 'm',
        inFlight,
        inFlightTokens: inFlight * 100,
        sentRequests: sent,
        sentWork: sent * 2000,
      },
    ],
  });
  // First sight: levels count, history is not queued anew.
  tracker.apply([report('r2', 2, 2), report('me', 9, 9)]);
  assert.equal(a.peerInFlight, 2);
  assert.equal(a.peerInFlightTokens, 200);
  assert.equal(a.inFlight, 0, 'own count untouched');
  assert.equal(a.busyUntilMs, 0);
  // Three more sent by r2 and one by r3 (first sight): 3 × 2000 tokens at 10,000 tokens/s = 600 ms.
  tracker.apply([report('r2', 5, 5), report('r3', 1, 1)]);
  assert.equal(a.peerInFlight, 6);
  assert.equal(a.busyUntilMs, 1600);
  assert.ok(engine.predictWaitMs(a) >= 600);
  // Our own send queues behind theirs, as one router's would, and its TTFT will teach no rate.
  const behind = engine.routed(a, { model: 'm', promptTokens: 1000 });
  assert.equal(behind.queued, true);
  assert.ok(a.busyUntilMs > 1700 && a.busyUntilMs < 1710, String(a.busyUntilMs));
  // r2 goes away: only r3's level is left; the queue drains by time.
  tracker.apply([report('r3', 1, 1)]);
  assert.equal(a.peerInFlight, 1);
  tracker.clear();
  assert.equal(a.peerInFlight, 0);
  assert.equal(a.peerInFlightTokens, 0);
});

test('in-flight and work-left scorers see the shared load: a second router avoids the busy endpoint', () => {
  const now = { t: 0 };
  const engine = twoEndpoints(now);
  const tracker = createPeerLoadTracker(engine, 'me');
  const before = engine.decide({ model: 'm', promptTokens: 1000 }, 'least-outstanding');
  const busy = before.target.endpointId;
  tracker.apply([
    {
      routerId: 'r2',
      endpoints: [
        { endpointId: busy, model: 'm', inFlight: 0, inFlightTokens: 0, sentRequests: 0, sentWork: 0 },
      ],
    },
  ]);
  tracker.apply([
    {
      routerId: 'r2',
      endpoints: [
        { endpointId: busy, model: 'm', inFlight: 4, inFlightTokens: 8000, sentRequests: 4, sentWork: 8000 },
      ],
    },
  ]);
  for (const profile of ['least-outstanding', 'default']) {
    const d = engine.decide({ model: 'm', promptTokens: 1000 }, profile);
    assert.notEqual(d.target.endpointId, busy, profile);
  }
});

test('a peer event survives the shared journal codec', () => {
  const event: PeerLoadEvent = {
    kind: 'peer',
    origin: 0,
    ticket: 0,
    key: 'n1/a\u0000m',
    at: 12.5,
    inFlight: 3,
    tokens: 4096,
    requests: 2,
    work: 1234.5,
    streamed: false,
  };
  const buf = new RecordBuffer();
  encodeEvent(event, buf);
  assert.deepEqual(decodeEvent(buf), event);
});
