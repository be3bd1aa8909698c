import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../core/errors.ts';
import { createAwareness } from './awareness.ts';
import { createBroadcastQueue } from './broadcast-queue.ts';
import { createVirtualClock } from './clock.ts';
import {
  DEFAULT_SWIM_CONFIG,
  pushPullIntervalMs,
  resolveSwimConfig,
  retransmitLimit,
  suspicionTimeoutMs,
} from './config.ts';
import { createSuspicion, remainingSuspicionMs } from './suspicion.ts';

test('cluster-size formulas follow memberlist', () => {
  // min suspicion = α · max(1, log10 n) · interval
  assert.equal(suspicionTimeoutMs(4, 1, 1_000), 4_000);
  assert.equal(suspicionTimeoutMs(4, 10, 1_000), 4_000);
  assert.equal(Math.round(suspicionTimeoutMs(4, 100, 1_000)), 8_000);
  assert.equal(Math.round(suspicionTimeoutMs(4, 1_000, 1_000)), 12_000);
  // retransmits = λ · ceil(log10(n + 1))
  assert.equal(retransmitLimit(4, 1), 4);
  assert.equal(retransmitLimit(4, 9), 4);
  assert.equal(retransmitLimit(4, 10), 8);
  assert.equal(retransmitLimit(4, 99), 8);
  assert.equal(retransmitLimit(4, 100), 12);
  assert.equal(pushPullIntervalMs(30_000, 32), 30_000);
  assert.equal(pushPullIntervalMs(30_000, 33), 60_000);
  assert.equal(pushPullIntervalMs(30_000, 64), 60_000);
  assert.equal(pushPullIntervalMs(30_000, 65), 90_000);
});

test('config: defaults are the LAN profile; every problem is reported together', () => {
  const c = resolveSwimConfig({ probeIntervalMs: 2_000 });
  assert.equal(c.probeIntervalMs, 2_000);
  assert.equal(c.probeTimeoutMs, DEFAULT_SWIM_CONFIG.probeTimeoutMs);
  assert.ok(Object.isFrozen(c));
  assert.throws(
    () =>
      resolveSwimConfig({
        probeIntervalMs: 100,
        probeTimeoutMs: 200,
        retransmitMult: 0,
        nackTimeoutFraction: 1,
      }),
    (err: unknown) =>
      err instanceof MeshError &&
      err.code === 'invalid_config' &&
      (err.details.problems as string[]).length === 3,
  );
});

test('suspicion: max with no confirmation, shrinking logarithmically to min after k', () => {
  const min = 4_000;
  const max = 24_000;
  assert.equal(remainingSuspicionMs(0, 3, 0, min, max), max);
  assert.equal(remainingSuspicionMs(3, 3, 0, min, max), min);
  const one = remainingSuspicionMs(1, 3, 0, min, max);
  const two = remainingSuspicionMs(2, 3, 0, min, max);
  assert.equal(one, Math.floor(max - (Math.log(2) / Math.log(4)) * (max - min))); // 14,000
  assert.ok(max > one && one > two && two > min);
  assert.equal(remainingSuspicionMs(3, 3, 5_000, min, max), -1_000);
  assert.equal(remainingSuspicionMs(0, 0, 0, min, max), min); // no confirmations expected: min

  const clock = createVirtualClock();
  let firedAt = -1;
  const s = createSuspicion({
    clock,
    from: 'a',
    k: 3,
    minMs: min,
    maxMs: max,
    onTimeout: () => (firedAt = clock.now()),
  });
  assert.equal(s.deadline(), max);
  clock.advance(1_000);
  assert.equal(s.confirm('a'), false); // the accuser does not confirm itself
  assert.equal(s.confirm('b'), true);
  assert.equal(s.confirm('b'), false); // nor twice
  assert.equal(s.deadline(), one);
  assert.equal(s.confirm('c'), true);
  clock.advance(9_000); // t = 10 s, past the 2-confirmation deadline of ~9.5 s
  assert.equal(firedAt, two);
  assert.equal(s.confirm('d'), false); // over
  assert.equal(s.confirmations(), 2);

  // Late confirmations past the minimum fire at once; a cancelled suspicion never fires.
  let late = -1;
  const s2 = createSuspicion({
    clock,
    from: 'a',
    k: 1,
    minMs: min,
    maxMs: max,
    onTimeout: () => (late = clock.now()),
  });
  clock.advance(6_000);
  s2.confirm('b');
  clock.advance(0);
  assert.equal(late, 16_000);
  let never = false;
  const s3 = createSuspicion({
    clock,
    from: 'a',
    k: 0,
    minMs: min,
    maxMs: max,
    onTimeout: () => (never = true),
  });
  s3.cancel();
  clock.advance(100_000);
  assert.equal(never, false);
});

test('awareness: score bounded to [0, max − 1], scales time by score + 1', () => {
  const a = createAwareness(8);
  a.apply(-1);
  assert.equal(a.score(), 0);
  assert.equal(a.scale(500), 500);
  a.apply(3);
  assert.equal(a.scale(1_000), 4_000);
  a.apply(100);
  assert.equal(a.score(), 7);
  assert.equal(a.scale(1_000), 8_000);
});

test('broadcast queue: least sent first, newest first among equals, replaced per key, retired at the limit', () => {
  const q = createBroadcastQueue();
  const msg = (n: number, size = 10) => new Uint8Array(size).fill(n);
  const done: string[] = [];
  q.push('a', msg(1), { onDone: () => done.push('a1') });
  q.push('b', msg(2), { onDone: () => done.push('b') });
  q.push('a', msg(3), { onDone: () => done.push('a3') }); // replaces a1
  assert.deepEqual(done, ['a1']);
  assert.equal(q.size(), 2);
  assert.deepEqual(
    q.take(15, 2).map((m) => m[0]),
    [3],
  ); // room for one: the newest
  assert.deepEqual(
    q.take(100, 2).map((m) => m[0]),
    [2, 3],
  ); // b (0 sends) before a (1)
  assert.deepEqual(done, ['a1', 'a3']); // a reached 2 sends
  q.push('big', msg(4, 500));
  assert.deepEqual(
    q.take(100, 2).map((m) => m[0]),
    [2],
  ); // what does not fit waits
  assert.deepEqual(done, ['a1', 'a3', 'b']);
  assert.equal(q.size(), 1);
  q.clear();
  assert.equal(q.size(), 0);
  assert.deepEqual(q.take(1_000, 2), []);
  // A member's own alive is not sent to it.
  q.push('x', msg(5), { skipFor: 'x' });
  assert.deepEqual(q.take(100, 2, 'x'), []);
  assert.deepEqual(
    q.take(100, 2, 'y').map((m) => m[0]),
    [5],
  );
});
