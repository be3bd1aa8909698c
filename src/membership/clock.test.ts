import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVirtualClock } from './clock.ts';
import { createSeededRandom, pickRandom, shuffle } from './random.ts';

test('virtual timers fire in time order, ties in creation order, and cancelled ones never', () => {
  const clock = createVirtualClock(100);
  const fired: string[] = [];
  clock.setTimer(30, () => fired.push('c30'));
  clock.setTimer(10, () => fired.push('a10'));
  const x = clock.setTimer(10, () => fired.push('x10'));
  clock.setTimer(10, () => fired.push('b10'));
  clock.setTimer(-5, () => fired.push('now'));
  clock.clearTimer(x);
  clock.advance(20);
  assert.deepEqual(fired, ['now', 'a10', 'b10']);
  assert.equal(clock.now(), 120);
  assert.equal(clock.pending(), 1);
  clock.runUntil(130);
  assert.deepEqual(fired, ['now', 'a10', 'b10', 'c30']);
  assert.equal(clock.pending(), 0);
});

test('timers set while running fire in the same run when due, at their own time', () => {
  const clock = createVirtualClock();
  const seen: [string, number][] = [];
  clock.setTimer(5, () => {
    seen.push(['outer', clock.now()]);
    clock.setTimer(0, () => seen.push(['zero', clock.now()]));
    clock.setTimer(3, () => seen.push(['later', clock.now()]));
    clock.setTimer(50, () => seen.push(['beyond', clock.now()]));
  });
  clock.setTimer(6, () => seen.push(['six', clock.now()]));
  clock.advance(10);
  assert.deepEqual(seen, [
    ['outer', 5],
    ['zero', 5],
    ['six', 6],
    ['later', 8],
  ]);
  assert.equal(clock.now(), 10);
});

test('a heap of many timers drains in order', () => {
  const clock = createVirtualClock();
  const random = createSeededRandom(9);
  const at: number[] = [];
  for (let i = 0; i < 2_000; i++) clock.setTimer(Math.floor(random() * 1_000), () => at.push(clock.now()));
  clock.advance(1_000);
  assert.equal(at.length, 2_000);
  for (let i = 1; i < at.length; i++) assert.ok(at[i - 1]! <= at[i]!);
});

test('seeded randomness replays; shuffle and pickRandom are permutations', () => {
  const a = createSeededRandom(42);
  const b = createSeededRandom(42);
  const xs = Array.from({ length: 5 }, () => a());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const items = [1, 2, 3, 4, 5, 6];
  assert.deepEqual([...shuffle(items.slice(), a)].sort(), items);
  const picked = pickRandom(items, 3, a);
  assert.equal(new Set(picked).size, 3);
  assert.deepEqual(pickRandom(items, 10, a).sort(), items);
  assert.deepEqual(pickRandom([], 3, a), []);
});
