import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainPrefixKeys } from '../core/prefix-keys.ts';
import { modelState } from '../core/testing/model-state.ts';
import { createScoringEngine } from './engine.ts';
import { createPrecisePrefixIndex, type PreciseBlocksUpdate } from './precise-prefix-index.ts';
import { prefixBlockHashes } from './prefix-index.ts';
import type { EndpointView } from './types.ts';

const ids = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => i * 13 + salt * 7919);
const view = (endpointId: string) => ({ endpointId, prefixMatch: 0, prefixEpoch: 0 }) as EndpointView;
const update = (endpointId: string, p: Partial<PreciseBlocksUpdate>): PreciseBlocksUpdate => ({
  endpointId,
  blockSize: 16,
  reset: false,
  added: [],
  removed: [],
  rebuilding: false,
  ...p,
});

test('a match is the longest leading run the events say is held, in router blocks', () => {
  const idx = createPrecisePrefixIndex();
  const prompt = ids(200); // 12 blocks of 16
  const keys = chainPrefixKeys(prompt, 16);
  idx.apply(update('a', { added: keys.slice(0, 8) }));
  idx.apply(update('b', { added: [...keys.slice(0, 2), ...keys.slice(3, 12)] })); // a hole at block 2
  idx.apply(update('c', { blockSize: 32, added: chainPrefixKeys(prompt, 32) })); // all 6 blocks of 32
  const vs = ['a', 'b', 'c', 'd'].map(view);
  assert.equal(idx.match(vs, 4, prompt, 7, 64, 0), 192);
  assert.deepEqual(
    vs.map((v) => [v.prefixMatch, v.prefixEpoch]),
    [
      [2, 7], // 128 tokens / 64
      [0.5, 7],
      [3, 7],
      [0, 0], // unknown endpoint: left at an old epoch (= no match)
    ],
  );
  idx.apply(update('a', { removed: [keys[0]!] }));
  idx.match(vs, 1, prompt, 8, 64, 0);
  assert.equal(vs[0]!.prefixMatch, 0);
  idx.apply(update('a', { reset: true, added: [keys[0]!] }));
  assert.equal(idx.size('a'), 1);
  idx.apply(update('a', { gone: true }));
  assert.equal(idx.size('a'), 0);
});

test('recent routes count as held until an event confirms them or their TTL runs out; evictions are believed at once', () => {
  const idx = createPrecisePrefixIndex({ predictionTtlMs: 1000 });
  const prompt = ids(64);
  const keys = chainPrefixKeys(prompt, 16);
  const [a] = [view('a')];
  idx.predict('a', prompt, 0);
  assert.equal(idx.match([a], 1, prompt, 1, 16, 500), 64);
  assert.equal(idx.match([a], 1, prompt, 2, 16, 1001), 0, 'expired');
  idx.predict('a', prompt, 2000);
  idx.apply(update('a', { added: keys }));
  idx.apply(update('a', { removed: keys.slice(2) }));
  // The confirmed blocks went: the prediction does not keep them alive.
  assert.equal(idx.match([a], 1, prompt, 3, 16, 2100), 32);
  // Routing there again predicts only what the events do not hold.
  idx.predict('a', prompt, 2200);
  assert.equal(idx.match([a], 1, prompt, 4, 16, 2300), 64);
});

test('precise profiles route on what the engines hold; approximate ones on the router’s history', () => {
  let now = 0;
  const engine = createScoringEngine({ random: () => 0, now: () => now });
  for (const id of ['n1/a', 'n1/b']) engine.fleet.upsert(modelState(id, { gpuType: 'H100' }));
  const prompt = ids(8192, 3);
  const req = {
    model: 'm',
    promptTokens: prompt.length,
    blockHashes: prefixBlockHashes(prompt),
    tokenIds: prompt,
  };
  // The router once sent this prompt to a, but b's engine is the one that holds it now.
  const a = engine.fleet.get('n1/a', 'm')!;
  engine.finished(engine.routed(a, req), { ok: true });
  now = 60_000; // the route's prediction has expired
  engine.precisePrefix.apply(update('n1/b', { added: chainPrefixKeys(prompt, 16) }));
  for (const p of ['default', 'llm-d']) assert.equal(engine.decide(req, p).target.endpointId, 'n1/a', p);
  for (const p of ['default-precise', 'llm-d-precise']) {
    const d = engine.decide(req, p);
    assert.equal(d.target.endpointId, 'n1/b', p);
  }
  // Without token ids a precise profile has no prefix signal (and does not fail).
  const { tokenIds: _unused, ...noIds } = req;
  assert.ok(engine.decide(noIds, 'default-precise').target);
});
