import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levelAt, splitLimits, waitMs } from './token-bucket.ts';

test('a fresh bucket is full; it refills at its rate up to its capacity', () => {
  const limits = { ratePerMs: 5 / 1000, capacity: 5 };
  assert.equal(levelAt(Number.NaN, 0, 0, limits), 5);
  assert.equal(levelAt(0, 1000, 1200, limits), 1);
  assert.equal(levelAt(0, 1000, 1000 + 60_000, limits), 5);
  assert.equal(levelAt(2, 1000, 900, limits), 2, 'a time before the last take adds nothing');
});

test('the wait is what the missing units take at the rate', () => {
  const limits = { ratePerMs: 5 / 1000, capacity: 5 };
  assert.equal(waitMs(1, 1, limits), 0);
  assert.equal(waitMs(0.5, 1, limits), 100);
  assert.equal(waitMs(0, 1, limits), 200);
});

test('split over N routers: each gets rate/N and burst/N, but at least the cost', () => {
  assert.deepEqual(splitLimits(10, 20, 1, 1), { ratePerMs: 10, capacity: 20 });
  assert.deepEqual(splitLimits(10, 20, 4, 1), { ratePerMs: 2.5, capacity: 5 });
  assert.deepEqual(splitLimits(10, 20, 0, 1), { ratePerMs: 10, capacity: 20 }, 'N below 1 counts as 1');
  assert.deepEqual(splitLimits(10, 2, 4, 1), { ratePerMs: 2.5, capacity: 1 });
});
