/**
 * What the TGI flavour counts for its `/metrics` page, with TGI's bucket rules
 * (runtime-formats.md 2.4): every `*duration` histogram has 35 geometric buckets 0.0001 × 1.5^k,
 * input lengths 100 linear buckets of `max_input_tokens / 100`, generated and max-new token counts
 * 100 linear buckets of `max_total_tokens / 100`. Durations are simulated seconds.
 */
import { createHistogram, type Histogram } from '../../histogram.ts';

/** TGI's `tgi_request_failure{err}` reasons. */
export type TgiFailure = 'validation' | 'overloaded' | 'generation' | 'incomplete';

export interface TgiStats {
  /** `tgi_request_count`: every generate request, valid or not. */
  requests: number;
  /** `tgi_request_success`. */
  success: number;
  /** `tgi_request_failure{err}`; a reason appears once it happened (TGI registers on first use). */
  failure: Partial<Record<TgiFailure, number>>;
  duration: Histogram;
  meanTimePerToken: Histogram;
  inputLength: Histogram;
  generatedTokens: Histogram;
  maxNewTokens: Histogram;
  fail(reason: TgiFailure): void;
}

/** 0.0001 × 1.5^k for k = 1..35, computed as TGI does (repeated multiplication), so `le` prints alike. */
export function durationBuckets(): number[] {
  const out: number[] = [];
  let value = 0.0001;
  for (let i = 0; i < 35; i++) {
    value *= 1.5;
    out.push(value);
  }
  return out;
}

/** `n` linear buckets `(max / 100) × k`, k = 1..100. */
export function linearBuckets(max: number): number[] {
  return Array.from({ length: 100 }, (_, i) => (max / 100) * (i + 1));
}

export function createTgiStats(maxInputTokens: number, maxTotalTokens: number): TgiStats {
  const stats: TgiStats = {
    requests: 0,
    success: 0,
    failure: {},
    duration: createHistogram(durationBuckets()),
    meanTimePerToken: createHistogram(durationBuckets()),
    inputLength: createHistogram(linearBuckets(maxInputTokens)),
    generatedTokens: createHistogram(linearBuckets(maxTotalTokens)),
    maxNewTokens: createHistogram(linearBuckets(maxTotalTokens)),
    fail(reason) {
      stats.failure[reason] = (stats.failure[reason] ?? 0) + 1;
    },
  };
  return stats;
}
