import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../core/config.ts';
import { createHedging, createTokenBucket, createTtftWindow } from './hedge.ts';
import type { Route } from './route-decider.ts';

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

test('the predicted budget is a multiple of the TTFT the engine predicted for this request there', () => {
  const config = parseConfig({ apiVersion: 'infermesh/v1', router: { hedging: { enabled: true } } });
  const hedging = createHedging(config.router.hedging)!;
  const route = (predictedTtftMs: number): Route =>
    ({ endpointId: 'e', url: 'http://e', predictedTtftMs, ttftP95Ms: 400, e2eMs: 2000 }) as Route;
  const stream = { model: 'm', stream: true };
  // Default: `predicted`, ×3, clamped to [50, 10,000] ms.
  assert.equal(hedging.budgetMs(route(100), stream), 300);
  assert.equal(hedging.budgetMs(route(5), stream), 50);
  assert.equal(hedging.budgetMs(route(60_000), stream), 10_000);
  // No prediction: the target's observed p95 × p95Multiplier (2).
  assert.equal(hedging.budgetMs(route(Number.NaN), stream), 800);
  // A whole answer has no visible first token: its mean end-to-end time × 2.
  assert.equal(hedging.budgetMs(route(100), { model: 'm', stream: false }), 4000);
});
