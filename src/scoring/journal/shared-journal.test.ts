import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { modelState } from '../../core/testing/model-state.ts';
import { createScoringEngine, type ScoringEngine } from '../engine.ts';
import { KeyTable, RecordBuffer, decodeEvent, encodeEvent } from './codec.ts';
import type { RoutingEvent } from './events.ts';
import { attachSharedJournal, createJournalMemory } from './shared-journal.ts';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const common = {
  origin: fc.nat({ max: 255 }),
  ticket: fc.nat({ max: 2 ** 31 }),
  key: fc.string({ maxLength: 40, unit: 'grapheme' }),
  at: finite,
  streamed: fc.boolean(),
  relayed: fc.boolean(),
};
const eventArb: fc.Arbitrary<RoutingEvent> = fc.oneof(
  fc.record({
    kind: fc.constant('routed' as const),
    ...common,
    tokens: finite,
    promptTokens: finite,
    work: finite,
    hashes: fc.array(fc.nat({ max: 2 ** 32 - 1 }), { maxLength: 300 }),
  }),
  fc.record({
    kind: fc.constant('first' as const),
    ...common,
    work: finite,
    sentAt: finite,
    predictedWaitMs: finite,
    predictedDoneAt: finite,
    ttftMs: finite,
    queued: fc.boolean(),
    censored: fc.boolean(),
    runtimeRate: fc.oneof(finite, fc.constant(Number.NaN)),
  }),
  fc.record({
    kind: fc.constant('finished' as const),
    ...common,
    tokens: finite,
    work: finite,
    predictedDoneAt: finite,
    firstTokenSeen: fc.boolean(),
    ok: fc.boolean(),
    e2eMs: fc.oneof(finite, fc.constant(Number.NaN)),
  }),
);

test('every event reads back as it was written', () => {
  const buf = new RecordBuffer();
  fc.assert(
    fc.property(eventArb, (event) => {
      encodeEvent(event, buf);
      const back = decodeEvent(buf);
      // fast-check builds records without a prototype; the decoder's are plain objects.
      const expected =
        event.kind === 'routed' ? { ...event, hashes: Uint32Array.from(event.hashes) } : { ...event };
      assert.deepEqual(back, expected);
    }),
  );
});

test('keys read through a key table are the keys written, across collisions and clears', () => {
  const keys = new KeyTable(8);
  const buf = new RecordBuffer();
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 40 }), (events) => {
      for (const event of events) {
        encodeEvent(event, buf);
        assert.equal(decodeEvent(buf, keys).key, event.key);
      }
    }),
  );
  // The table keeps its own copy of the bytes: the reader's buffer is overwritten by the next record.
  const bytes = new TextEncoder().encode('node-a/ep-1');
  assert.equal(keys.get(bytes), 'node-a/ep-1');
  bytes[bytes.length - 1] = '2'.charCodeAt(0);
  assert.equal(keys.get(bytes), 'node-a/ep-2');
});

/** Replicas of one engine over one journal, all in this thread; replica i is participant i. */
function replicas(n: number, slots?: number) {
  const memory = createJournalMemory(slots);
  let t = 1000;
  const engines: ScoringEngine[] = [];
  for (let i = 0; i < n; i++) {
    const engine = createScoringEngine({
      journal: attachSharedJournal(memory, i),
      now: () => t,
      random: () => 0,
    });
    for (const id of ['a', 'b', 'c', 'd']) engine.fleet.upsert(modelState(id, { gpuType: 'H100' }));
    engines.push(engine);
  }
  return { engines, tick: (ms: number) => (t += ms) };
}

const inFlight = (e: ScoringEngine) => {
  e.sync();
  return e.fleet.forModel('m').map((v) => v.inFlight);
};

test('replicas deciding in turn place a burst as one engine would, and agree on every count', () => {
  const { engines } = replicas(2);
  const [a, b] = engines as [ScoringEngine, ScoringEngine];
  const pick = (e: ScoringEngine) =>
    e.exclusive(() => {
      const d = e.decide({ model: 'm', promptTokens: 2000 });
      return e.routed(d.target, { model: 'm', promptTokens: 2000 }, d.predictedWaitMs);
    });
  const tickets = [pick(a), pick(a), pick(b), pick(a)];
  assert.deepEqual(tickets.map((t) => t.view.endpointId).sort(), ['a', 'b', 'c', 'd']);
  assert.deepEqual(inFlight(a), [1, 1, 1, 1]);
  assert.deepEqual(inFlight(b), [1, 1, 1, 1]);
  // Outcomes reported on one replica reach the other.
  b.finished(tickets[2]!, { ok: true, e2eMs: 80, ttftMs: 40 });
  a.finished(tickets[0]!, { ok: false });
  assert.deepEqual(inFlight(a), inFlight(b));
  assert.equal(
    inFlight(a).reduce((x, y) => x + y),
    2,
  );
});

test('replicas applying the same journal hold the same numbers, ring wrap-arounds included', () => {
  // A 64-slot ring: the run below wraps it many times, records crossing its end.
  const { engines, tick } = replicas(3, 64);
  const open: Array<{ e: ScoringEngine; t: ReturnType<ScoringEngine['routed']> }> = [];
  for (let i = 0; i < 300; i++) {
    const e = engines[i % 3]!;
    tick(3);
    const hashes = Uint32Array.from({ length: i % 20 }, (_, j) => (i * 7 + j) % 50);
    const req = { model: 'm', promptTokens: 500 + i, maxTokens: 32, blockHashes: hashes };
    const t = e.exclusive(() => e.routed(e.decide(req).target, req, 0));
    open.push({ e, t });
    if (i % 4 === 3) engines[(i + 1) % 3]!.sync();
    if (open.length > 5) {
      const done = open.shift()!;
      done.e.firstToken(done.t, 20);
      done.e.finished(done.t, { ok: true, e2eMs: 100 });
    }
  }
  const state = (e: ScoringEngine) => {
    e.sync();
    return e.fleet
      .forModel('m')
      .map((v) => [v.inFlight, v.inFlightTokens, v.busyUntilMs, v.observedP95Ms, v.prefixBlocks]);
  };
  assert.deepEqual(state(engines[1]!), state(engines[0]!));
  assert.deepEqual(state(engines[2]!), state(engines[0]!));
  assert.equal(
    state(engines[0]!).reduce((sum, v) => sum + (v[0] as number), 0),
    5,
  );
});

test('a replica that falls a ring behind forgets its counts instead of trusting them', () => {
  const memory = createJournalMemory(16);
  const fast = createScoringEngine({ journal: attachSharedJournal(memory, 1) });
  const slowJournal = attachSharedJournal(memory, 2);
  const slow = createScoringEngine({ journal: slowJournal });
  for (const e of [fast, slow]) e.fleet.upsert(modelState('a'));
  slow.sync();
  for (let i = 0; i < 20; i++) fast.routed(fast.fleet.forModel('m')[0]!, { model: 'm' }, 0);
  assert.equal(fast.fleet.forModel('m')[0]!.inFlight, 20);
  slow.sync();
  assert.equal(slowJournal.overruns, 1);
  assert.equal(slow.fleet.forModel('m')[0]!.inFlight, 0);
  // And it follows the journal again from there.
  fast.routed(fast.fleet.forModel('m')[0]!, { model: 'm' }, 0);
  slow.sync();
  assert.equal(slow.fleet.forModel('m')[0]!.inFlight, 1);
});
