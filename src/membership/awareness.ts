/**
 * Lifeguard's local health awareness: a score from 0 (healthy) to `max − 1` that rises when this
 * node sees signs that *it* is the slow one (relays' nacks that never came, probes that failed with
 * no relay to vouch, having to refute a suspicion of itself) and falls with every successful probe.
 * Probe interval and probe timeout are multiplied by `score + 1`, so a node that cannot keep up
 * probes less eagerly instead of accusing healthy peers.
 */
export interface Awareness {
  /** The current score, 0 … max − 1. */
  score(): number;
  /** Adds `delta` (clamped to the range). */
  apply(delta: number): void;
  /** `ms` scaled by the current health: ms · (score + 1). */
  scale(ms: number): number;
}

export function createAwareness(max: number): Awareness {
  let score = 0;
  return {
    score: () => score,
    apply(delta) {
      score = Math.min(max - 1, Math.max(0, score + delta));
    },
    scale: (ms) => ms * (score + 1),
  };
}
