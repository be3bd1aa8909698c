import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchCapacity } from './capacity-search.ts';
import {
  differenceVerdict,
  meanInterval,
  pairedDifference,
  pairedRatio,
  tQuantile95,
  verdict,
} from './stats.ts';

test('t quantiles: df 2 is 4.303, large df tends to 1.96', () => {
  assert.equal(tQuantile95(2), 4.303);
  assert.equal(tQuantile95(1000), 1.96);
  assert.ok(Number.isNaN(tQuantile95(0)));
});

test('mean interval of three samples matches the textbook t-interval', () => {
  const m = meanInterval([1, 2, 3]);
  assert.equal(m.mean, 2);
  // sd = 1, se = 1/sqrt(3), half = 4.303 / sqrt(3)
  assert.ok(Math.abs(m.hi - (2 + 4.303 / Math.sqrt(3))) < 1e-9);
  assert.ok(Math.abs(m.lo - (2 - 4.303 / Math.sqrt(3))) < 1e-9);
  assert.ok(Number.isNaN(meanInterval([5]).lo));
});

test('paired ratio is a geometric mean; a consistent 2x is a loss when lower is better', () => {
  const r = pairedRatio([2, 4, 8.2], [1, 2, 4]);
  assert.ok(r.mean > 1.99 && r.mean < 2.05);
  assert.ok(r.lo > 1 && r.hi < 3);
  assert.equal(verdict(r, true), 'loss');
  assert.equal(verdict(r, false), 'win');
});

test('noisy ratios straddling 1 are a tie', () => {
  const r = pairedRatio([1.5, 0.6, 1.1], [1, 1, 1]);
  assert.ok(r.lo < 1 && r.hi > 1);
  assert.equal(verdict(r, true), 'tie');
});

test('identical pairs: zero-width interval at 1 is a tie; differences of equal values tie', () => {
  assert.equal(verdict(pairedRatio([3, 3, 3], [3, 3, 3]), true), 'tie');
  assert.equal(differenceVerdict(pairedDifference([1, 1, 1], [1, 1, 1])), 'tie');
  assert.equal(differenceVerdict(pairedDifference([0.9, 0.92, 0.91], [0.7, 0.71, 0.69])), 'win');
  assert.equal(differenceVerdict(pairedDifference([0.5, 0.52, 0.51], [0.7, 0.71, 0.69])), 'loss');
});

test('capacity search brackets and bisects to the threshold of a monotone probe', () => {
  const threshold = 37.5;
  const r = searchCapacity((rate) => rate <= threshold, { initial: 10, steps: 8 });
  assert.ok(r.rate <= threshold && r.failedAt > threshold);
  assert.ok(r.failedAt / r.rate < 1.02, `bracket ${r.rate}..${r.failedAt}`);
  const down = searchCapacity((rate) => rate <= 3, { initial: 100, steps: 8 });
  assert.ok(down.rate <= 3 && down.failedAt > 3 && down.failedAt / down.rate < 1.02);
  assert.equal(down.probes[0]!.pass, false);
});

test('capacity search gives NaN when nothing passes within the bracket limit', () => {
  const r = searchCapacity(() => false, { initial: 1, maxBracket: 3 });
  assert.ok(Number.isNaN(r.rate));
  assert.equal(r.probes.length, 4);
});
