/**
 * Randomness for the membership protocol, injected as a plain `() => number` in [0, 1) so that a
 * simulation seeds it and replays exactly; production passes `Math.random`.
 */

import type { Random } from '../core/random.ts';

export { createSeededRandom, type Random } from '../core/random.ts';

/** An integer in [0, n). */
export function randomIndex(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** Shuffles `items` in place (Fisher–Yates) and returns it. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomIndex(random, i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/**
 * Up to `k` distinct items of `items`, in random order: a partial Fisher–Yates that records only
 * the positions it swapped, so picking 3 of 1,000 costs 3 steps, not a copy of 1,000.
 */
export function pickRandom<T>(items: readonly T[], k: number, random: Random): T[] {
  const len = items.length;
  const n = Math.min(k, len);
  const moved = new Map<number, number>();
  const at = (i: number) => moved.get(i) ?? i;
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const j = i + randomIndex(random, len - i);
    const picked = at(j);
    moved.set(j, at(i));
    out.push(items[picked]!);
  }
  return out;
}
