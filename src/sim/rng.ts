/**
 * Seeded randomness and the pseudo-words the simulator "generates". Each request gets its own
 * generator seeded from the engine seed, the request's `seed` parameter and its prompt, so output
 * does not depend on arrival order or on what else is running.
 */

import { createSeededRandom, type Random } from '../core/random.ts';

/** A deterministic generator of floats in [0, 1) (mulberry32, `src/core/random.ts`). */
export type Rng = Random;
export const createRng: (seed: number) => Rng = createSeededRandom;

/** Mixes numbers into one 32-bit seed (order matters). */
export function mixSeed(...values: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    h = Math.imul(h ^ Math.floor(v / 4294967296), 0x27d4eb2f);
  }
  return h >>> 0;
}

const WORDS = (
  'the of and to in is that for it as with was on be by this are at from or an which have not but ' +
  'model token cache batch prefix kernel memory tensor layer stream signal mesh router engine block ' +
  'queue latency request decode prefill attention weight vector matrix throughput node cluster ' +
  'fast slow small large simple stable early late first last next each every many few quiet bright'
).split(' ');

/** The text of one generated token: a pseudo-word, with a leading space after the first. */
export function pseudoWord(rng: Rng, index: number): string {
  const word = WORDS[Math.floor(rng() * WORDS.length)] ?? 'the';
  return index === 0 ? word : ` ${word}`;
}
