import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../../../../core/testing/model-state.ts';
import { createScoringEngine } from '../../../engine.ts';
import { prefixBlockHashes } from '../../../prefix-index.ts';
import type { ScoringRequest } from '../../../types.ts';
import { createRng as seeded } from '../../../../sim/rng.ts';
import { createApproxTree } from './approx-tree.ts';

/** A prompt of `tokens` token ids starting at `from` (distinct `from` → distinct prompts). */
function prompt(from: number, tokens: number, shared: number[] = []): ScoringRequest {
  const ids = [...shared, ...Array.from({ length: tokens - shared.length }, (_, i) => from + i)];
  return { model: 'm', promptTokens: ids.length, blockHashes: prefixBlockHashes(ids) };
}

function fleet(ids: string[], params: Record<string, unknown> = {}, now = () => 0) {
  const engine = createScoringEngine({
    random: seeded(7),
    now,
    profiles: { s: { picker: { type: 'sglang-cache-aware', params } } },
  });
  for (const id of ids) engine.fleet.upsert(modelState(id, { gpuType: 'H100' }));
  /** Decides and routes; the request finishes at once (balanced load). */
  const send = (req: ScoringRequest) => {
    const d = engine.decide(req, 's', false);
    engine.finished(engine.routed(d.target, req), { ok: true });
    return d.target.endpointId;
  };
  return { engine, send };
}

test('distinct prompts spread evenly, also once every tree is full (no endpoint-0 pile-up)', () => {
  const ids = ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'];
  // Trees capped at 1,024 tokens and evicted on every decision: all fill and report one size,
  // the state in which the old strict `<` sent every tie to endpoint 0.
  for (const params of [{}, { maxTreeTokens: 1024, evictionIntervalMs: 0 }]) {
    const { send } = fleet(ids, params);
    const counts = new Map<string, number>();
    const n = 1600;
    for (let i = 0; i < n; i++) {
      const e = send(prompt(1_000_000 + i * 1000, 512));
      counts.set(e, (counts.get(e) ?? 0) + 1);
    }
    const share = n / ids.length;
    assert.ok((counts.get('e0') ?? 0) <= share * 1.25, `e0 got ${counts.get('e0')} of ${n}`);
    for (const id of ids) assert.ok((counts.get(id) ?? 0) >= share * 0.75, `${id}: ${counts.get(id)}`);
  }
});

test('balanced: a prompt sharing most of a cached prefix follows it; a new prompt goes to the smallest tree', () => {
  const { send } = fleet(['a', 'b', 'c']);
  const system = Array.from({ length: 768 }, (_, i) => 7 + i);
  const first = send(prompt(50_000, 1024, system));
  // 768 of 1,024 tokens cached there (75% > cache_threshold 0.3): follow the cache, repeatedly.
  for (let i = 0; i < 5; i++) assert.equal(send(prompt(60_000 + i * 1000, 1024, system)), first);
  // A prompt with nothing cached goes to an endpoint whose tree is still empty.
  assert.notEqual(send(prompt(900_000, 1024)), first);
});

test('imbalanced: the least loaded endpoint wins even against a full cache hit, and learns the prompt', () => {
  const { engine, send } = fleet(['a', 'b', 'c']);
  const req = prompt(10_000, 1024);
  const home = send(req);
  assert.equal(send(req), home);
  const view = engine.fleet.get(home, 'm')!;
  view.inFlight = 100; // 100 − 0 > balance_abs 64 and 100 > 0 × 1.5
  const other = send(req);
  assert.notEqual(other, home);
  view.inFlight = 0;
  // Balanced again: both trees hold the prompt now; either may serve it.
  assert.ok([home, other].includes(send(req)));
  // Within the thresholds (diff 60 ≤ 64) the cache still wins.
  view.inFlight = 60;
  assert.ok([home, other].includes(send(req)));
});

test('the approximate tree evicts least recently used leaves down to its cap, ancestors last', () => {
  const tree = createApproxTree<string>();
  const out: string[] = [];
  const any = () => true;
  tree.insert('x', [1, 2, 3, 4], 64, 0);
  tree.insert('x', [1, 2, 5, 6], 64, 10);
  assert.equal(tree.size('x'), 6 * 64 + 10);
  tree.evict(4 * 64 + 10);
  // The older branch's leaves (3, 4) went first; the shared root (1, 2) and the newer branch stay.
  assert.equal(tree.match([1, 2, 3, 4], any, out), 2);
  assert.equal(tree.match([1, 2, 5, 6], any, out), 4);
  assert.deepEqual(out, ['x']);
  // Touching a path makes it recent: inserting [1,2,5,6] again, then a new one, evicts the other.
  tree.insert('y', [9, 8], 64, 0);
  tree.insert('x', [1, 2, 7], 64, 0);
  tree.insert('x', [1, 2, 5, 6], 64, 0);
  tree.evict(4 * 64);
  assert.equal(tree.match([1, 2, 7], any, out), 2);
  assert.equal(tree.match([1, 2, 5, 6], any, out), 4);
  assert.equal(tree.size('y'), 128);
  // Only candidates count: a path held by a non-candidate does not match.
  assert.equal(
    tree.match([9, 8], (t) => t !== 'y', out),
    0,
  );
});

test('over-cap trees lose their least recently used prompts when the eviction interval comes', () => {
  let now = 0;
  const { send } = fleet(['a', 'b'], { maxTreeTokens: 512, evictionIntervalMs: 1000 }, () => now);
  const only = (id: string, req: ScoringRequest): ScoringRequest => ({
    ...req,
    exclude: new Set([id === 'a' ? 'b' : 'a']),
  });
  const A = prompt(10_000, 512);
  const B = prompt(20_000, 512);
  send(only('a', A));
  send(only('a', B));
  send(only('a', A)); // A touched again: B is now a's least recently used prompt
  assert.equal(send(B), 'a', 'over the cap but not yet evicted: B is still a hit on a');
  send(only('a', A));
  now = 1000;
  send(only('b', prompt(30_000, 256))); // the interval passed: a is cut back to 512 tokens (A)
  assert.equal(send(B), 'b', 'B was evicted from a: it goes to the smaller tree');
  assert.equal(send(A), 'a', 'A, recently used, is still cached on a');
});
