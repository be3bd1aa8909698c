import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockHashes, createKvCache } from './kv-cache.ts';

const seq = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

test('block hashes chain over full blocks only', () => {
  const a = blockHashes(seq(40));
  assert.equal(a.length, 2);
  const b = blockHashes([...seq(32), 999, 1000]);
  assert.deepEqual(b, a);
  // Same second block content after a different first block: a different hash.
  const c = blockHashes([...seq(16, 100), ...seq(16, 16)]);
  assert.notEqual(c[1], a[1]);
  for (const h of a) assert.ok(Number.isSafeInteger(h));
});

test('lookup finds the longest cached leading run; touch takes it off the free queue', () => {
  const kv = createKvCache(8, 16);
  const hs = blockHashes(seq(48));
  const ids = kv.allocate(3)!;
  ids.forEach((id, i) => kv.cache(id, hs[i]!));
  assert.equal(kv.numFree(), 5);
  kv.free(ids);
  assert.equal(kv.numFree(), 8);
  assert.equal(kv.usage(), 0);
  assert.deepEqual(kv.lookup(hs), ids);
  assert.deepEqual(kv.lookup([hs[0]!, 12345, hs[2]!]), [ids[0]]);
  kv.touch(ids.slice(0, 2));
  assert.equal(kv.numFree(), 6);
  assert.equal(kv.refCount(ids[0]!), 1);
  kv.touch([ids[0]!]);
  assert.equal(kv.refCount(ids[0]!), 2);
  kv.free([ids[0]!]);
  assert.equal(kv.refCount(ids[0]!), 1);
});

test('LRU: allocation evicts the least recently freed cached blocks first, tail blocks of a request first', () => {
  const kv = createKvCache(4, 16);
  const old = kv.allocate(2)!; // blocks 0,1
  const young = kv.allocate(2)!; // blocks 2,3
  const hOld = blockHashes(seq(32));
  const hYoung = blockHashes(seq(32, 500));
  old.forEach((id, i) => kv.cache(id, hOld[i]!));
  young.forEach((id, i) => kv.cache(id, hYoung[i]!));
  kv.free(old);
  kv.free(young);
  assert.equal(kv.cachedCount(), 4);
  // The old request's last block goes first, then its first block.
  assert.deepEqual(kv.allocate(1), [old[1]]);
  assert.equal(kv.cachedCount(), 3);
  assert.deepEqual(kv.lookup(hOld), [old[0]]);
  assert.deepEqual(kv.allocate(1), [old[0]]);
  assert.deepEqual(kv.lookup(hOld), []);
  assert.deepEqual(kv.lookup(hYoung), young, 'younger blocks survive');
  assert.equal(kv.allocate(3), null, 'too few blocks: nothing changes');
  assert.equal(kv.numFree(), 2);
  assert.throws(() => kv.free([old[0]!, old[0]!]), /freed twice/);
});
