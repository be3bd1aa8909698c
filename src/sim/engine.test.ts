import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRealClock, createVirtualClock } from './clock.ts';
import { createSimEngine, type FinishResult, type SimEngineOptions, type StepInfo } from './engine.ts';
import { BLOCK_SIZE } from './kv-cache.ts';
import { tokenIds } from '../core/tokens.ts';

const prompt = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729) >>> 0);

function virtualEngine(opts: SimEngineOptions = {}) {
  const clock = createVirtualClock();
  const steps: StepInfo[] = [];
  const engine = createSimEngine({ clock, ...opts, onStep: (s) => steps.push(s) });
  const results: FinishResult[] = [];
  const submit = (n: number, maxTokens: number, salt = 0) => {
    const r = engine.submit({ promptTokenIds: prompt(n, salt), maxTokens });
    void r.done.then((x) => results.push(x));
    return r;
  };
  return { clock, engine, steps, results, submit };
}

test('the running batch never exceeds maxNumSeqs; the rest wait in FIFO order', async () => {
  const { clock, engine, steps, submit } = virtualEngine({ maxNumSeqs: 4 });
  const reqs = Array.from({ length: 10 }, (_, i) => submit(50, 20, i));
  let maxRunning = 0;
  const order: string[] = [];
  for (const r of reqs) void r.done.then((x) => order.push(x.id));
  assert.equal(engine.stats().waiting, 10);
  clock.advance(0);
  assert.equal(engine.stats().running, 4);
  assert.equal(engine.stats().waiting, 6);
  clock.runUntil(() => {
    maxRunning = Math.max(maxRunning, engine.stats().running);
    return engine.stats().completed === 10;
  });
  await Promise.all(reqs.map((r) => r.done));
  assert.equal(maxRunning, 4);
  assert.ok(steps.every((s) => s.requests <= 4));
  assert.deepEqual(
    order,
    reqs.map((r) => r.id),
    'FIFO admission with equal lengths finishes in order',
  );
  assert.equal(engine.counters().generationTokens, 200);
  assert.equal(engine.stats().freeBlocks, engine.numBlocks);
});

test('a repeated prompt hits the prefix cache and skips its prefill', async () => {
  const { clock, engine, steps } = virtualEngine();
  const ids = tokenIds('You are a helpful assistant. '.repeat(40)); // 290 tokens
  const first = engine.submit({ promptTokenIds: ids, maxTokens: 1 });
  clock.runAll();
  await first.done;
  const firstPrefill = steps[0]!;
  assert.equal(firstPrefill.tokens, ids.length);
  assert.equal(engine.counters().prefixHits, 0);
  const second = engine.submit({ promptTokenIds: ids, maxTokens: 1 });
  clock.runAll();
  await second.done;
  const cached = Math.floor((ids.length - 1) / BLOCK_SIZE) * BLOCK_SIZE;
  assert.equal(engine.counters().prefixHits, cached);
  assert.equal(engine.counters().prefixQueries, 2 * ids.length);
  const secondPrefill = steps.at(-1)!;
  assert.equal(secondPrefill.tokens, ids.length - cached);
  assert.ok(secondPrefill.durationMs < firstPrefill.durationMs, 'cached prefill is faster');
  assert.equal(engine.counters().ttft.count, 2);
});

test('a tiny KV cache forces preemption; the preempted request still completes', async () => {
  // 10 blocks = 160 tokens; two requests of 48 + 60 tokens each need 7 blocks at the end.
  const { clock, engine, submit } = virtualEngine({ kvBlocks: 10, maxNumSeqs: 8 });
  const a = submit(48, 60, 1);
  const b = submit(48, 60, 2);
  clock.runAll();
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.reason, 'length');
  assert.equal(rb.reason, 'length');
  assert.equal(ra.completionTokens, 60);
  assert.equal(rb.completionTokens, 60);
  assert.ok(engine.stats().preemptions >= 1, 'at least one preemption');
  assert.equal(engine.counters().preemptions, engine.stats().preemptions);
  assert.equal(engine.stats().freeBlocks, 10);
});

test('the same seed gives the same text; another seed gives other text', async () => {
  const run = async (seed: number) => {
    const { clock, engine, submit } = virtualEngine({ seed });
    const r = submit(30, 40);
    submit(10, 5, 3);
    clock.runAll();
    const x = await r.done;
    engine.close();
    return x.text;
  };
  const a = await run(7);
  assert.equal(a, await run(7));
  assert.notEqual(a, await run(8));
  assert.equal(a.split(' ').length, 40);
});

test('a seeded early stop ends with finish_reason stop, ignore_eos runs to max_tokens', async () => {
  const { clock, engine } = virtualEngine({ stopProbability: 0.2 });
  const stopped = engine.submit({ promptTokenIds: prompt(20), maxTokens: 200 });
  const full = engine.submit({ promptTokenIds: prompt(20), maxTokens: 200, ignoreEos: true });
  clock.runAll();
  const [s, f] = await Promise.all([stopped.done, full.done]);
  assert.equal(s.reason, 'stop');
  assert.ok(s.completionTokens < 200);
  assert.equal(f.reason, 'length');
  assert.equal(engine.counters().finished.stop, 1);
});

test('cancel frees blocks at any time and counts it', async () => {
  const { clock, engine, submit } = virtualEngine({ maxNumSeqs: 1 });
  const running = submit(100, 1000);
  const queued = submit(100, 10, 1);
  clock.advance(50);
  assert.equal(engine.stats().running, 1);
  assert.ok(engine.stats().freeBlocks < engine.numBlocks);
  assert.equal(engine.abort(queued.id), true);
  assert.equal(engine.abort(running.id), true);
  assert.equal(engine.abort(running.id), false);
  assert.equal((await running.done).reason, 'abort');
  assert.equal((await queued.done).reason, 'abort');
  const s = engine.stats();
  assert.deepEqual(
    [s.running, s.waiting, s.cancelled, s.completed, s.freeBlocks],
    [0, 0, 2, 0, engine.numBlocks],
  );
  assert.equal(engine.counters().finished.abort, 2);
  clock.runAll();
  assert.equal(clock.pending(), 0);
});

test('requests that can never fit are refused', () => {
  const { engine } = virtualEngine({ kvBlocks: 4, maxModelLen: 100 });
  assert.throws(
    () => engine.submit({ promptTokenIds: prompt(90), maxTokens: 20 }),
    /maximum context length is 64/,
  );
  assert.throws(
    () => engine.submit({ promptTokenIds: prompt(10), maxTokens: 0 }),
    /max_tokens must be at least 1/,
  );
});

test('step times follow the profile: decode flat with batch size, a100 slower than h100', () => {
  const times = (profile: 'h100' | 'a100', batch: number) => {
    const { clock, steps, submit } = virtualEngine({ profile, maxNumSeqs: 256 });
    for (let i = 0; i < batch; i++) submit(16, 4, i);
    clock.runAll();
    return steps.at(-1)!.durationMs; // a pure decode step
  };
  const h1 = times('h100', 1);
  const h64 = times('h100', 64);
  assert.ok(h64 < h1 * 1.6, `decode is memory-bound: ${h1} vs ${h64}`);
  assert.ok(times('a100', 1) > h1 * 1.3);
});

test('timeScale shortens wall time and keeps the simulated step durations', async () => {
  const run = async (timeScale: number) => {
    const steps: StepInfo[] = [];
    const engine = createSimEngine({ clock: createRealClock(), timeScale, onStep: (s) => steps.push(s) });
    const started = performance.now();
    const r = engine.submit({ promptTokenIds: prompt(200), maxTokens: 30 });
    const res = await r.done;
    return {
      wall: performance.now() - started,
      steps: steps.map((s) => s.durationMs),
      ttft: engine.counters().ttft.sum,
      res,
    };
  };
  const slow = await run(2);
  const fast = await run(50);
  assert.deepEqual(fast.steps, slow.steps);
  assert.ok(Math.abs(fast.ttft - slow.ttft) < 1e-9, 'simulated latencies do not depend on timeScale');
  const simulated = slow.steps.reduce((a, b) => a + b, 0);
  assert.ok(
    slow.wall >= simulated / 2 - 5,
    `slow run takes its simulated time / 2 (${slow.wall} vs ${simulated / 2})`,
  );
  assert.ok(fast.wall < slow.wall / 2, `fast ${fast.wall} ms vs slow ${slow.wall} ms`);
  assert.equal(fast.res.text, slow.res.text);
});
