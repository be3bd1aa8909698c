import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../../../../core/testing/model-state.ts';
import { createScoringEngine } from '../../../engine.ts';
import { prefixBlockHashes } from '../../../prefix-index.ts';
import type { ProfileSpec } from '../../../profiles.ts';
import type { ScoringRequest } from '../../../types.ts';

function fleet(ids: string[], profile?: ProfileSpec) {
  let now = 0;
  let r = 0.321;
  const engine = createScoringEngine({
    random: () => (r = (r * 9301 + 0.49297) % 1),
    now: () => now,
    ...(profile ? { profiles: { d: profile } } : {}),
  });
  for (const id of ids) engine.fleet.upsert(modelState(id, { gpuType: 'H100' }));
  const name = profile ? 'd' : 'dynamo-kv';
  const pick = (req: ScoringRequest) => engine.decide(req, name, false).target.endpointId;
  /** Sends `req` to `id` and lets it finish; the clock moves past its prefill. */
  const warm = (id: string, req: ScoringRequest) => {
    engine.finished(engine.routed(engine.fleet.get(id, 'm')!, req), { ok: true });
    now += 60_000;
  };
  return { engine, pick, warm };
}

const ids = Array.from({ length: 512 }, (_, i) => 100 + i); // 8 blocks of 64 tokens
const req: ScoringRequest = { model: 'm', promptTokens: 512, blockHashes: prefixBlockHashes(ids) };

test('prefers the endpoint holding more of the prompt (fewer uncached prefill blocks)', () => {
  const { pick, warm } = fleet(['a', 'b', 'c']);
  warm('b', req);
  for (let i = 0; i < 5; i++) assert.equal(pick(req), 'b');
});

test('unless its active decode blocks outweigh the saved prefill', () => {
  const { engine, pick, warm } = fleet(['a', 'b']);
  warm('a', req);
  const a = engine.fleet.get('a', 'm')!;
  // a: 0 prefill + (256 + 512) / 64 = 12 decode blocks; b: 8 prefill + 8 decode = 16 → a.
  a.inFlightTokens = 256;
  assert.equal(pick(req), 'a');
  // a: 0 + (1,024 + 512) / 64 = 24 > 16 → b.
  a.inFlightTokens = 1024;
  assert.equal(pick(req), 'b');
  // A heavier overlap weight makes the cache worth more: weight 3 gives b 3 × 8 + 8 = 32 > a's 24.
  const heavy = fleet(['a', 'b'], { picker: { type: 'dynamo-kv', params: { overlapScoreWeight: 3 } } });
  heavy.warm('a', req);
  heavy.engine.fleet.get('a', 'm')!.inFlightTokens = 1024;
  assert.equal(heavy.pick(req), 'a');
});

test('prompt work still queued counts as prefill blocks', () => {
  const { engine, pick, warm } = fleet(['a', 'b']);
  warm('a', req);
  // The router predicts 1 s of prefill still queued at a: at the GPU's rate that is far more than
  // the 8 blocks a cache hit saves.
  engine.fleet.get('a', 'm')!.busyUntilMs = 60_000 + 1000;
  assert.equal(pick(req), 'b');
});

test('temperature 0 spreads exact ties at random; a temperature samples by softmax', () => {
  const { pick } = fleet(['a', 'b', 'c', 'd']);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 400; i++) {
    const id = pick({ model: 'm', promptTokens: 100 });
    counts[id] = (counts[id] ?? 0) + 1;
  }
  for (const id of ['a', 'b', 'c', 'd']) assert.ok(counts[id]! > 70, JSON.stringify(counts));

  const hot = fleet(['a', 'b'], { picker: { type: 'dynamo-kv', params: { temperature: 1 } } });
  hot.warm('a', req);
  let a = 0;
  for (let i = 0; i < 1000; i++) if (hot.pick(req) === 'a') a++;
  // Costs 8 and 16 normalised by their range: P(a) = e / (1 + e) ≈ 0.73.
  assert.ok(a > 650 && a < 810, `a chosen ${a} of 1000`);
});
