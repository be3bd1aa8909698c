/**
 * vLLM's arithmetic on two readings of one model: cumulative counters and histograms become rates
 * and p95s over the window between two successful scrapes. The window and reset rules are the
 * shared ones (../rate-tracker.ts, ../window.ts).
 */
import {
  createRateTracker,
  p95Ms,
  type RateTracker,
  type RateTrackerOptions,
  type WindowSignals,
} from '../rate-tracker.ts';
import { counterDelta } from '../window.ts';
import type { VllmModelReadings } from './extract.ts';

export type VllmTracker = RateTracker<VllmModelReadings, WindowSignals>;

/**
 * `requestRate` counts every `finished_reason`; `prefixCacheHitRate` is Δhits / Δqueries (tokens),
 * or V0's hit-rate gauge when no counters are exposed.
 */
function derive(prev: VllmModelReadings | undefined, cur: VllmModelReadings, windowS: number): WindowSignals {
  const out: WindowSignals = {};
  const set = <K extends keyof WindowSignals>(key: K, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) out[key] = value;
  };
  if (cur.prefixHitRateV0 !== undefined) set('prefixCacheHitRate', cur.prefixHitRateV0);
  if (!prev) return out;
  const requests = counterDelta(prev.requests, cur.requests);
  set('requestRate', requests === undefined ? undefined : requests / windowS);
  const prompt = counterDelta(prev.promptTokens, cur.promptTokens);
  const generated = counterDelta(prev.generationTokens, cur.generationTokens);
  set(
    'tokenRate',
    prompt === undefined || generated === undefined ? undefined : (prompt + generated) / windowS,
  );
  const hits = counterDelta(prev.prefixHits, cur.prefixHits);
  const queries = counterDelta(prev.prefixQueries, cur.prefixQueries);
  if (hits !== undefined && queries !== undefined && queries > 0)
    set('prefixCacheHitRate', Math.min(1, Math.max(0, hits / queries)));
  set('ttftP95Ms', p95Ms(prev.ttft, cur.ttft));
  set('e2eP95Ms', p95Ms(prev.e2e, cur.e2e));
  set('itlP95Ms', p95Ms(prev.itl, cur.itl));
  return out;
}

/** A tracker for one vLLM endpoint (or one engine of it). Feed it successful scrapes only. */
export const createVllmTracker = (options: RateTrackerOptions = {}): VllmTracker =>
  createRateTracker(derive, options);
