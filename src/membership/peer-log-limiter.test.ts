import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPeerLogLimiter, OVERFLOW_PEER } from './peer-log-limiter.ts';

test('one report per peer per interval; the suppressed count rides on the next report', () => {
  let now = 0;
  const limiter = createPeerLogLimiter({ intervalMs: 1000, now: () => now });
  assert.equal(limiter.take('a'), 0, 'first event of a: reported');
  assert.equal(limiter.take('b'), 0, 'peers are independent');
  for (let i = 0; i < 5; i++) assert.equal(limiter.take('a'), undefined, 'within the interval: suppressed');
  now = 999;
  assert.equal(limiter.take('a'), undefined);
  now = 1000;
  assert.equal(limiter.take('a'), 6, 'next interval: reported with the 6 suppressed');
  assert.equal(limiter.take('a'), undefined);
  now = 5000;
  assert.equal(limiter.take('a'), 1);
  assert.equal(limiter.take('b'), 0, 'b was quiet: nothing suppressed');
});

test('memory is bounded: past maxPeers, expired peers are pruned, then new ones share a slot', () => {
  let now = 0;
  const limiter = createPeerLogLimiter({ intervalMs: 1000, maxPeers: 3, now: () => now });
  for (const p of ['a', 'b', 'c']) assert.equal(limiter.take(p), 0);
  assert.equal(limiter.take('d'), 0, `d reported under ${OVERFLOW_PEER}`);
  assert.equal(limiter.take('e'), undefined, 'e shares the overflow slot with d');
  now = 1500;
  assert.equal(limiter.take('f'), 0, 'the expired peers were pruned: f gets its own slot');
  assert.equal(limiter.take('f'), undefined);
});
