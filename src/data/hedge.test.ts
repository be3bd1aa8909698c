import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTokenBucket, createTtftWindow } from './hedge.ts';

test('the token bucket allows burst + rate·n hedges over n requests', () => {
  const bucket = createTokenBucket(0.05, 2);
  let hedges = 0;
  for (let i = 0; i < 1000; i++) {
    bucket.refill();
    if (bucket.take()) hedges++;
  }
  assert.ok(hedges <= 2 + 50 && hedges >= 49, `hedges ${hedges}`);
});

test('the first-token window scales its p95 with prompt size', () => {
  const w = createTtftWindow(100, 20);
  assert.equal(w.p95(0), undefined);
  for (let i = 1; i <= 100; i++) w.observe(i, 0);
  assert.equal(w.p95(0), 95);
  assert.equal(w.p95(1024), 190);
});
