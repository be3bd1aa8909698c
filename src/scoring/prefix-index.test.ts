import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../core/testing/model-state.ts';
import { tokenIds } from '../core/tokens.ts';
import { createFleet } from './fleet.ts';
import { createPrefixIndex, prefixBlockHashes } from './prefix-index.ts';

const fleet = createFleet();
const view = (id: string) => fleet.upsert(modelState(id));

test('block hashes are chained: equal prefixes give equal leading hashes, a change breaks the rest', () => {
  const a = prefixBlockHashes(tokenIds('x'.repeat(4 * 64 * 3)), 64);
  const b = prefixBlockHashes(tokenIds('x'.repeat(4 * 64 * 2) + 'y'.repeat(4 * 64)), 64);
  assert.equal(a.length, 3);
  assert.deepEqual([...a.slice(0, 2)], [...b.slice(0, 2)]);
  assert.notEqual(a[2], b[2]);
  assert.equal(prefixBlockHashes([1, 2, 3], 64).length, 0); // no full block
});

test('match finds the longest leading run per endpoint; LRU eviction bounds each endpoint', () => {
  const index = createPrefixIndex(4);
  const a = view('a');
  const b = view('b');
  index.record(a, [1, 2, 3]);
  index.record(b, [1, 9]);
  assert.equal(index.match([1, 2, 3, 4], 1), 3);
  assert.deepEqual([a.prefixMatch, a.prefixEpoch, b.prefixMatch], [3, 1, 1]);
  index.record(a, [7, 8]); // capacity 4: block 1 (oldest) goes
  assert.equal(index.size(a), 4);
  assert.equal(index.match([1, 2, 3], 2), 1); // only b still holds block 1
  assert.equal(a.prefixEpoch, 1); // a was not touched this epoch: no match
  index.drop(b);
  assert.equal(index.match([1], 3), 0);
});
