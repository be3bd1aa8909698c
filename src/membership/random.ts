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

/** Up to `k` distinct items of `items`, in random order (a partial Fisher–Yates on a copy). */
export function pickRandom<T>(items: readonly T[], k: number, random: Random): T[] {
  const pool = items.slice();
  const n = Math.min(k, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + randomIndex(random, pool.length - i);
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  pool.length = n;
  return pool;
}
