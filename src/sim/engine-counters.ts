/**
 * The counters an engine keeps for its `/metrics` page (vLLM V1 names in parentheses) and stats.
 * Latency histograms hold simulated seconds, so their shape does not depend on `timeScale`.
 */
import { createHistogram, E2E_BUCKETS, ITL_BUCKETS, TTFT_BUCKETS, type Histogram } from './histogram.ts';

export interface EngineCounters {
  /** `vllm:prompt_tokens_total`: prompt tokens of requests that produced a first token. */
  promptTokens: number;
  /** `vllm:generation_tokens_total`. */
  generationTokens: number;
  /** `vllm:prefix_cache_queries_total`: tokens looked up at admission. */
  prefixQueries: number;
  /** `vllm:prefix_cache_hits_total`: tokens served from the prefix cache. */
  prefixHits: number;
  /** `vllm:num_preemptions_total`. */
  preemptions: number;
  /** `vllm:request_success_total{finished_reason}`. */
  finished: { stop: number; length: number; abort: number };
  completed: number;
  cancelled: number;
  steps: number;
  ttft: Histogram;
  itl: Histogram;
  e2e: Histogram;
}

export function createEngineCounters(): EngineCounters {
  return {
    promptTokens: 0,
    generationTokens: 0,
    prefixQueries: 0,
    prefixHits: 0,
    preemptions: 0,
    finished: { stop: 0, length: 0, abort: 0 },
    completed: 0,
    cancelled: 0,
    steps: 0,
    ttft: createHistogram(TTFT_BUCKETS),
    itl: createHistogram(ITL_BUCKETS),
    e2e: createHistogram(E2E_BUCKETS),
  };
}
