/**
 * The vLLM metric names the adapter reads, each with the older name it falls back to. Names are
 * matched exactly, never by prefix or suffix: `vllm:prefix_cache_hits_total` must not pick up
 * `vllm:prefix_cache_hits_created` (a timestamp) or `vllm:external_prefix_cache_hits_total`, and
 * `vllm:num_requests_waiting` must not pick up `vllm:num_requests_waiting_by_reason`.
 */
export const VLLM_METRICS = {
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
  /** V1 ≥ 0.9; `gpu_cache_usage_perc` before (hidden 0.11, removed 0.12). Both are fractions 0..1. */
  kvUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
  /** Counters in tokens; the `gpu_` names are the early-V1 ones (removed 0.12). */
  prefixHits: ['vllm:prefix_cache_hits_total', 'vllm:gpu_prefix_cache_hits_total'],
  prefixQueries: ['vllm:prefix_cache_queries_total', 'vllm:gpu_prefix_cache_queries_total'],
  /** V0 only: a hit-rate gauge, used when neither counter pair is exposed. */
  prefixHitRateV0: 'vllm:gpu_prefix_cache_hit_rate',
  requestSuccess: 'vllm:request_success_total',
  promptTokens: 'vllm:prompt_tokens_total',
  generationTokens: 'vllm:generation_tokens_total',
  ttft: 'vllm:time_to_first_token_seconds',
  e2e: 'vllm:e2e_request_latency_seconds',
  /** `time_per_output_token_seconds` is the pre-0.10.2 name. */
  itl: ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'],
  cacheConfig: 'vllm:cache_config_info',
  /** Info gauge (value = time set) with `running_lora_adapters`/`waiting_lora_adapters` label lists. */
  loraInfo: 'vllm:lora_requests_info',
} as const;
