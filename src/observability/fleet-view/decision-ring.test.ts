import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DecisionRecord } from '../../core/decision-record.ts';
import { createDecisionRing } from './decision-ring.ts';

const decision = (id: string, requestId = `req-${id}`): DecisionRecord => ({
  id,
  requestId,
  at: 0,
  model: 'm',
  profile: 'default',
  kind: 'primary',
  worker: 0,
  candidates: 2,
  weights: { 'work-left': 1 },
  top: [{ endpointId: 'n/a', total: 0.9, scores: { 'work-left': 0.9 } }],
  chosen: 'n/a',
});

test('the ring keeps the last N decisions, oldest first, and joins outcomes by id', () => {
  const ring = createDecisionRing(3);
  const seen: string[] = [];
  ring.onChange((r) => seen.push(`${r.id}${r.outcome ? '+' : ''}`));
  for (const id of ['a', 'b', 'c', 'd']) ring.decided(decision(id));
  assert.deepEqual(
    ring.list().map((r) => r.id),
    ['b', 'c', 'd'],
  );
  ring.outcome('c', { ok: true, status: 200, ttftMs: 12, outputTokens: 5 });
  assert.deepEqual(ring.list()[1]!.outcome, { ok: true, status: 200, ttftMs: 12, outputTokens: 5 });
  // Evicted, unknown or already joined: nothing changes.
  ring.outcome('a', { ok: false });
  ring.outcome('zz', { ok: false });
  ring.outcome('c', { ok: false });
  ring.decided(decision('d'));
  assert.equal(ring.list()[1]!.outcome?.ok, true);
  assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'c+']);
});

test("a worker's batch applies decisions before outcomes", () => {
  const ring = createDecisionRing();
  ring.apply({
    decisions: [decision('1-1'), decision('1-2')],
    outcomes: [{ id: '1-2', outcome: { ok: true } }],
  });
  assert.deepEqual(
    ring.list().map((r) => [r.id, r.outcome?.ok]),
    [
      ['1-1', undefined],
      ['1-2', true],
    ],
  );
});

test('the watch switch is shared memory the router threads read', () => {
  const ring = createDecisionRing();
  const view = new Int32Array(ring.watchFlag);
  assert.equal(ring.watching(), false);
  ring.setWatching(true);
  assert.equal(Atomics.load(view, 0), 1);
  assert.equal(ring.watching(), true);
  ring.setWatching(false);
  assert.equal(ring.watching(), false);
});
