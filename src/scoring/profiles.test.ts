import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../core/testing/model-state.ts';
import { createScoringEngine } from './engine.ts';
import { prefixBlockHashes } from './prefix-index.ts';
import { BUILTIN_PROFILES } from './profiles.ts';

test("llm-d is the Inference Extension's default profile: prefix 3, queue 2, KV utilisation 2, max score", () => {
  const p = BUILTIN_PROFILES['llm-d']!;
  const weights = Object.fromEntries((p.scorers ?? []).map((s) => [s.type, s.weight]));
  assert.deepEqual(weights, { 'prefix-affinity': 3, queue: 2, 'kv-pressure': 2 });
  assert.equal(p.picker?.type, 'max-score');

  const engine = createScoringEngine({ random: () => 0, now: () => 0 });
  engine.fleet.upsert(modelState('a', { queueDepth: 4, kvCacheUsage: 0.5 }));
  engine.fleet.upsert(modelState('b', { queueDepth: 0, kvCacheUsage: 0.1 }));
  const hashes = prefixBlockHashes(Array.from({ length: 640 }, (_, i) => i));
  const a = engine.fleet.get('a', 'm')!;
  engine.finished(engine.routed(a, { model: 'm', promptTokens: 640, blockHashes: hashes }), { ok: true });
  // a: 3 × 1 (full prefix) + 2 × 0 (longest queue) + 2 × 0.5 = 4; b: 0 + 2 × 1 + 2 × 0.9 = 3.8.
  const d = engine.decide({ model: 'm', promptTokens: 640, blockHashes: hashes }, 'llm-d');
  assert.equal(d.target.endpointId, 'a');
  assert.match(engine.explain(d), /prefix-affinity 1\.000×3 \+ kv-pressure 0\.500×2 \+ queue 0\.000×2/);
});

test('every baseline profile is built in, and each names a picker that exists', () => {
  const engine = createScoringEngine();
  for (const name of [
    'round-robin',
    'random',
    'least-outstanding',
    'power-of-two',
    'llm-d',
    'sglang-cache-aware',
    'weighted-least-request',
    'dynamo-kv',
  ]) {
    assert.ok(engine.profileNames().includes(name), name);
  }
});
