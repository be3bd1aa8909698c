/**
 * Seeded randomness: a source of floats in [0, 1) that a simulation or test seeds and replays
 * exactly; production code that takes a `Random` is given `Math.random`.
 */

/** A source of floats in [0, 1). */
export type Random = () => number;

/** A deterministic generator (mulberry32) seeded with a 32-bit integer. */
export function createSeededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
