/**
 * The step-time model: how long one engine iteration takes on a GPU profile, given what the
 * scheduler put in the batch. Linear layers cost by the total tokens in the step (interpolated from
 * the Vidur table, so decode is memory-bound and flat up to ~128 tokens, prefill compute-bound and
 * linear); attention, absent from the Vidur files, is modelled as a KV-read term per context token
 * plus a compute term per (query, key) pair. See docs/SIMULATOR.md for the constants.
 */
import type { GpuProfile } from './profiles.ts';

/** One request's share of a step: `newTokens` computed on top of `contextTokens` already in KV. */
export interface StepItem {
  newTokens: number;
  contextTokens: number;
}

/** Linear-layer ms for `tokens` tokens: piecewise-linear in the table, extrapolated with the last slope. */
export function linearMs(profile: GpuProfile, tokens: number): number {
  const pts = profile.linearMs;
  if (tokens <= 0) return 0;
  const first = pts[0];
  if (!first) return 0;
  if (tokens <= first[0]) return first[1];
  for (let i = 1; i < pts.length; i++) {
    const hi = pts[i];
    const lo = pts[i - 1];
    if (!hi || !lo) break;
    if (tokens <= hi[0] || i === pts.length - 1) {
      return lo[1] + ((hi[1] - lo[1]) * (tokens - lo[0])) / (hi[0] - lo[0]);
    }
  }
  return first[1];
}

/**
 * Duration of one step in simulated ms: fixed overhead + linear layers for all new tokens +
 * for each request, KV read of its whole context (old + new) and attention compute for its new
 * tokens against that context (causal: `n * (ctx + (n + 1) / 2)` pairs).
 */
export function stepTimeMs(profile: GpuProfile, items: readonly StepItem[]): number {
  let tokens = 0;
  let kvTokens = 0;
  let pairs = 0;
  for (const it of items) {
    tokens += it.newTokens;
    kvTokens += it.contextTokens + it.newTokens;
    pairs += it.newTokens * (it.contextTokens + (it.newTokens + 1) / 2);
  }
  if (tokens === 0) return 0;
  return (
    profile.overheadMs +
    linearMs(profile, tokens) +
    kvTokens * profile.kvReadMsPerToken +
    pairs * profile.attnMsPerPair
  );
}
