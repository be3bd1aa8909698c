import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MeshError } from '../core/errors.ts';
import { modelState } from '../core/testing/model-state.ts';
import { createScoringEngine } from './engine.ts';
import { createPluginRegistry } from './registry.ts';
import { prefixBlockHashes } from './prefix-index.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as MeshError).code;
  }
  return 'none';
};

test('filters drop unhealthy, warming, quarantined and wrong-MIG endpoints; errors keep their codes', () => {
  const engine = createScoringEngine({ random: () => 0 });
  assert.equal(
    codeOf(() => engine.decide({ model: 'm' })),
    'model_not_found',
  );
  engine.fleet.upsert(modelState('sick', { health: 'unhealthy' }));
  engine.fleet.upsert(modelState('warm', { warming: true }));
  assert.equal(
    codeOf(() => engine.decide({ model: 'm' })),
    'no_healthy_endpoint',
  );
  engine.fleet.upsert(modelState('q'));
  engine.fleet.setGpu('q', {
    uuid: 'GPU-1',
    index: 0,
    name: 'H100',
    node: 'n1',
    healthy: false,
    updatedAt: 0,
    source: 'sim',
  });
  assert.equal(
    codeOf(() => engine.decide({ model: 'm' })),
    'no_healthy_endpoint',
  );
  engine.fleet.upsert(modelState('mig'));
  engine.fleet.setGpu('mig', {
    uuid: 'MIG-1',
    index: 0,
    name: 'H100',
    node: 'n1',
    healthy: true,
    migMode: true,
    migProfile: '3g.40gb',
    updatedAt: 0,
    source: 'sim',
  });
  assert.equal(engine.decide({ model: 'm' }).target.endpointId, 'mig');
  assert.equal(engine.decide({ model: 'm', migProfile: '2g.20gb' }).target.endpointId, 'mig');
  assert.equal(
    codeOf(() => engine.decide({ model: 'm', migProfile: '4g.40gb' })),
    'no_healthy_endpoint',
  );
});

test('the router counts its own work at once: a burst spreads before any scrape', () => {
  const engine = createScoringEngine({ random: () => 0.5, now: () => 0 });
  for (const id of ['a', 'b', 'c', 'd']) engine.fleet.upsert(modelState(id, { gpuType: 'H100' }));
  const counts = new Map<string, number>();
  for (let i = 0; i < 40; i++) {
    const req = { model: 'm', promptTokens: 2000, maxTokens: 100 };
    const d = engine.decide(req);
    engine.routed(d.target, req, d.predictedWaitMs);
    counts.set(d.target.endpointId, (counts.get(d.target.endpointId) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()], [10, 10, 10, 10]);
});

test('work-left prefers the faster GPU and the endpoint already holding the prompt prefix', () => {
  let now = 0;
  const engine = createScoringEngine({ random: () => 0, now: () => now });
  engine.fleet.upsert(modelState('a100', { gpuType: 'A100' }));
  engine.fleet.upsert(modelState('h100', { gpuType: 'H100' }));
  assert.equal(engine.decide({ model: 'm', promptTokens: 8000 }).target.endpointId, 'h100');
  // Give the A100 the prompt's prefix: 8k cached tokens beat a 3× faster GPU.
  const ids = Array.from({ length: 8192 }, (_, i) => i);
  const hashes = prefixBlockHashes(ids);
  const a100 = engine.fleet.get('a100', 'm')!;
  engine.finished(engine.routed(a100, { model: 'm', promptTokens: 8192, blockHashes: hashes }), { ok: true });
  now = 10_000;
  const d = engine.decide({ model: 'm', promptTokens: 8192, blockHashes: hashes });
  assert.equal(d.target.endpointId, 'a100');
  assert.equal(d.top[0]!.endpointId, 'a100');
  assert.ok(d.top[0]!.scores['work-left']! > d.top[1]!.scores['work-left']!);
  assert.match(engine.explain(d), /^a100 \d\.\d{3} = work-left/);
});

test('every built-in profile picks a candidate that passed the filters, and timings are recorded', () => {
  const engine = createScoringEngine({ random: () => 0.3 });
  for (const id of ['a', 'b', 'c']) engine.fleet.upsert(modelState(id, { queueDepth: id.charCodeAt(0) % 3 }));
  engine.fleet.upsert(modelState('down', { health: 'unhealthy' }));
  for (const profile of engine.profileNames()) {
    for (let i = 0; i < 5; i++) {
      const d = engine.decide({ model: 'm', promptTokens: 100, blockHashes: [1, 2, 3] }, profile);
      assert.notEqual(d.target.endpointId, 'down', profile);
      assert.equal(d.candidates, 3);
      assert.ok(d.score >= 0 && d.score <= 1, profile);
    }
  }
  const timings = engine.timings();
  assert.ok(timings.some((t) => t.profile === 'default' && t.name === 'work-left' && t.calls === 5));
  assert.ok(timings.every((t) => t.totalMs >= 0));
});

test('SLO class swaps the weight vector; unknown plugins are config errors listing every problem', () => {
  const engine = createScoringEngine({
    profiles: {
      x: { scorers: [{ type: 'in-flight', weight: 1 }], sloClasses: { throughput: { 'in-flight': 0 } } },
    },
  });
  engine.fleet.upsert(modelState('a'));
  assert.deepEqual(Object.keys(engine.decide({ model: 'm' }, 'x').top[0]!.scores), ['in-flight']);
  assert.deepEqual(
    Object.keys(engine.decide({ model: 'm', sloClass: 'throughput' }, 'x').top[0]!.scores),
    [],
  );
  assert.throws(
    () =>
      createScoringEngine({ profiles: { bad: { scorers: [{ type: 'nope' }], picker: { type: 'nah' } } } }),
    (err: MeshError) => err.code === 'invalid_config' && /nope/.test(err.message) && /nah/.test(err.message),
  );
  assert.throws(() => createScoringEngine({ profile: 'missing' }), /not defined/);
});

test('property: whatever plugins return, totals stay in [0,1] and the pick is a candidate', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(fc.double(), fc.constant(Number.NaN), fc.constant(Infinity), fc.constant(-Infinity)),
        { minLength: 1, maxLength: 20 },
      ),
      fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 5, noNaN: true })),
      (raws, weight) => {
        const registry = createPluginRegistry();
        registry.scorers.set('wild', () => ({
          name: 'wild',
          score: (_c, n, _r, _x, out) => {
            for (let i = 0; i < n; i++) out[i] = raws[i % raws.length]!;
          },
        }));
        const engine = createScoringEngine({
          registry,
          profiles: { p: { scorers: [{ type: 'wild', weight }] } },
          profile: 'p',
          explainTop: 20,
        });
        raws.forEach((_, i) => engine.fleet.upsert(modelState(`e${i}`)));
        const d = engine.decide({ model: 'm' });
        for (const t of d.top) {
          assert.ok(t.total >= 0 && t.total <= 1 + 1e-12);
          const s = t.scores.wild ?? 0; // weight 0 leaves the scorer out of the explanation
          assert.ok(s >= 0 && s <= 1);
        }
        assert.equal(d.top[0]!.endpointId, d.target.endpointId);
        const best = Math.max(...d.top.map((t) => t.total));
        assert.ok(d.top[0]!.total >= best - 1e-12);
      },
    ),
    { numRuns: 100 },
  );
});

test('a decision explains as many of the best as asked (the Scoring RPC topK), beyond the default three', () => {
  const engine = createScoringEngine();
  for (let i = 0; i < 8; i++) engine.fleet.upsert(modelState(`e${i}`));
  assert.equal(engine.decide({ model: 'm' }).top.length, 3);
  const eight = engine.decide({ model: 'm' }, undefined, 8).top;
  assert.equal(new Set(eight.map((t) => t.endpointId)).size, 8);
  assert.equal(engine.decide({ model: 'm' }, undefined, 20).top.length, 8);
  assert.equal(engine.decide({ model: 'm' }, undefined, false).top.length, 0);
});
