import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainPrefixKeys } from '../../../../core/prefix-keys.ts';
import { createEndpointBlockState, type BlockDelta } from './block-state.ts';
import type { KvEvent } from './decode.ts';

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i * 31);
const stored = (
  hashes: (number | string)[],
  parent: number | string | null,
  tokenIds: number[],
  extra: Partial<Extract<KvEvent, { type: 'BlockStored' }>> = {},
): KvEvent => ({
  type: 'BlockStored',
  blockHashes: hashes,
  parentBlockHash: parent,
  tokenIds,
  blockSize: 4,
  medium: 'GPU',
  groupIdx: null,
  ...extra,
});
const removed = (hashes: (number | string)[], medium: string | null = 'GPU'): KvEvent => ({
  type: 'BlockRemoved',
  blockHashes: hashes,
  medium,
  groupIdx: null,
});

test('keys are the mesh’s own chain over token ids, whatever the engine hashes: a prompt stored in two events matches the router’s keys', () => {
  const deltas: BlockDelta[] = [];
  const s = createEndpointBlockState({ onDelta: (d) => deltas.push(d) });
  const prompt = ids(12);
  s.apply([stored([901, 'bff'], null, prompt.slice(0, 8))]);
  s.apply([stored(['i77'], 'bff', prompt.slice(8, 12))]);
  const router = chainPrefixKeys(prompt, 4);
  assert.deepEqual([...s.keys()], router);
  assert.equal(s.blockSize(), 4);
  assert.deepEqual(deltas[0], {
    blockSize: 4,
    reset: false,
    added: router.slice(0, 2),
    removed: [],
    rebuilding: false,
  });
  assert.deepEqual(deltas[1]!.added, [router[2]]);
});

test('BlockRemoved finds keys through the engine hashes; a key shared by two engine hashes goes with the last', () => {
  const deltas: BlockDelta[] = [];
  const s = createEndpointBlockState({ onDelta: (d) => deltas.push(d) });
  const p = ids(8);
  const [k0, k1] = chainPrefixKeys(p, 4);
  // The same tokens under two engine hashes (another LoRA or cache salt): one key, two holders.
  s.apply([stored([1, 2], null, p), stored([11, 12], null, p)]);
  assert.equal(deltas.length, 1);
  s.apply([removed([2])]);
  assert.deepEqual([...s.keys()].sort(), [k0, k1].sort());
  assert.equal(deltas.length, 1, 'nothing changed for the router');
  s.apply([removed([12, 999])]); // an unknown hash is ignored
  assert.deepEqual([...s.keys()], [k0]);
  assert.deepEqual(deltas[1], { blockSize: 4, reset: false, added: [], removed: [k1], rebuilding: false });
  assert.equal(s.counters().removed, 2);
});

test('a store and remove in one batch cancel out; AllBlocksCleared resets the set', () => {
  const deltas: BlockDelta[] = [];
  const s = createEndpointBlockState({ onDelta: (d) => deltas.push(d) });
  s.apply([stored([1], null, ids(4)), removed([1])]);
  assert.equal(deltas.length, 0);
  s.apply([stored([1], null, ids(4)), { type: 'AllBlocksCleared' }, stored([5], null, ids(4, 9))]);
  assert.deepEqual(deltas.at(-1), {
    blockSize: 4,
    reset: true,
    added: chainPrefixKeys(ids(4, 9), 4),
    removed: [],
    rebuilding: false,
  });
});

test('other tiers, other groups, orphans and short token lists are left out and counted', () => {
  const s = createEndpointBlockState();
  s.apply([
    stored([1], null, ids(4), { medium: 'CPU' }),
    stored([2], null, ids(4), { groupIdx: 1 }),
    stored([3], 424242, ids(4)), // parent never seen
    stored([4, 5], null, ids(6)), // 6 tokens for 2 blocks of 4
    removed([1], 'CPU'),
  ]);
  assert.equal(s.keys().size, 0);
  assert.deepEqual(s.counters(), { stored: 0, removed: 0, cleared: 0, orphans: 1, ignored: 4 });
});

test('reset(true) empties the set and marks it rebuilding for rebuildMs; AllBlocksCleared makes it whole', () => {
  let now = 1000;
  const deltas: BlockDelta[] = [];
  const s = createEndpointBlockState({ now: () => now, rebuildMs: 500, onDelta: (d) => deltas.push(d) });
  s.apply([stored([1], null, ids(4))]);
  s.reset(true);
  assert.equal(s.keys().size, 0);
  assert.equal(s.rebuilding(), true);
  assert.deepEqual(deltas.at(-1), { blockSize: 4, reset: true, added: [], removed: [], rebuilding: true });
  s.apply([stored([2], null, ids(4, 1))]);
  assert.equal(deltas.at(-1)!.rebuilding, true);
  now += 501;
  assert.equal(s.rebuilding(), false);
  s.reset(true);
  s.apply([{ type: 'AllBlocksCleared' }]);
  assert.equal(s.rebuilding(), false);
});

test('a new block size starts the set over', () => {
  const deltas: BlockDelta[] = [];
  const s = createEndpointBlockState({ onDelta: (d) => deltas.push(d) });
  s.apply([stored([1], null, ids(4))]);
  s.apply([stored([2], null, ids(8), { blockSize: 8 })]);
  assert.deepEqual(deltas.at(-1), {
    blockSize: 8,
    reset: true,
    added: chainPrefixKeys(ids(8), 8),
    removed: [],
    rebuilding: false,
  });
});
