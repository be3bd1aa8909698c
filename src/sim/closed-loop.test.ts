import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, runClosedLoop, steadyRequestMs } from './closed-loop.ts';
import { GPU_PROFILES } from './profiles.ts';
import { linearMs, stepTimeMs } from './step-time.ts';

const h100 = GPU_PROFILES.h100;
const decodes = (n: number, ctx: number) =>
  Array.from({ length: n }, () => ({ newTokens: 1, contextTokens: ctx }));

test('concurrency 50 with 1000/1000 tokens: TTFT is one prefill step, not a queue (default sizing)', () => {
  const c = 50;
  const run = (engine: Parameters<typeof runClosedLoop>[0]['engine']) =>
    runClosedLoop({
      concurrency: c,
      promptTokens: 1000,
      outputTokens: 1000,
      requests: 60,
      startSpreadMs: steadyRequestMs(h100, c, 1000, 1000),
      engine,
    });
  const ttft = median(run({ profile: 'h100' }).timings.map((t) => t.ttftMs));
  // No request gets its first token faster than its own 1000-token prefill step, and with room in
  // the KV cache and the batch it waits at most for the step in flight to end, then rides the next
  // one: both at most a step of the other 49 decodes at their longest context plus its prefill.
  const ownPrefill = stepTimeMs(h100, [{ newTokens: 1000, contextTokens: 0 }]);
  const busiestStep = stepTimeMs(h100, [...decodes(c - 1, 2000), { newTokens: 1000, contextTokens: 0 }]);
  assert.ok(ttft >= ownPrefill, `median TTFT ${ttft} ms < its own prefill ${ownPrefill} ms`);
  assert.ok(ttft <= 2 * busiestStep, `median TTFT ${ttft} ms > two busiest steps ${2 * busiestStep} ms`);

  // The old defaults (64 slots, 4,096 blocks = 65k tokens) cannot hold 50 × 2,000 tokens: requests
  // are preempted and queue for KV, and the same bound fails by far.
  const old = median(
    run({ profile: 'h100', maxNumSeqs: 64, kvBlocks: 4096, maxNumBatchedTokens: 2048 }).timings.map(
      (t) => t.ttftMs,
    ),
  );
  assert.ok(old > 5 * 2 * busiestStep, `old sizing's median TTFT ${old} ms`);
});

test('prompts past the token budget queue: TTFT grows with concurrency; a budget that holds them all does not queue', () => {
  const budget = 2048;
  const prompt = 512;
  // Every client sends at once: a burst of `c` prompts against one step's budget.
  const burst = (c: number, maxNumBatchedTokens = budget) =>
    runClosedLoop({
      concurrency: c,
      promptTokens: prompt,
      outputTokens: 2,
      requests: c,
      warmup: 0,
      engine: { profile: 'h100', maxNumBatchedTokens },
    })
      .timings.map((t) => t.ttftMs)
      .sort((a, b) => a - b);

  // 4 × 512 = the budget: all four prompts share one step and get their first token at its end.
  const oneStep = stepTimeMs(
    h100,
    Array.from({ length: 4 }, () => ({ newTokens: prompt, contextTokens: 0 })),
  );
  for (const t of burst(4)) assert.ok(Math.abs(t - oneStep) < 1e-6, `${t} vs ${oneStep}`);

  // Past the budget the burst is served in budget-sized steps, oldest first: the first four
  // prompts still get their token after one step, and the k-th fastest needs k × 512 tokens
  // computed, at most `budget` per step, every step until then full.
  const fullStep = h100.overheadMs + linearMs(h100, budget);
  const ttfts = burst(32);
  for (const t of ttfts.slice(0, 4))
    assert.ok(Math.abs(t - oneStep) < 1e-6, `first step: ${t} vs ${oneStep}`);
  ttfts.forEach((t, i) => {
    const steps = Math.ceil(((i + 1) * prompt) / budget);
    assert.ok(t >= steps * fullStep - 1e-6, `#${i + 1}: ${t} ms < ${steps} full steps of ${fullStep} ms`);
  });
  const medians = [4, 8, 16, 32].map((c) => median(burst(c)));
  for (let i = 1; i < medians.length; i++) assert.ok(medians[i]! > medians[i - 1]!, medians.join(' < '));

  // With a budget that holds the whole burst, all 32 share one step: the budget made the queue.
  const all = burst(32, 32 * prompt);
  assert.equal(all[0], all[all.length - 1]);
});
