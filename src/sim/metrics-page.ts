/**
 * The simulator's `/metrics` page: the vLLM V1 families a router scrapes, with vLLM's names, HELP
 * texts, labels (`model_name`, `engine="0"`) and buckets, rendered as prometheus_client would.
 */
import type { SimEngine } from './engine.ts';
import { createPromWriter } from './prom-text.ts';

/** Renders the exposition; `createdSec` is the Unix time (s) the metrics were created. */
export function renderSimMetrics(engine: SimEngine, createdSec: number): string {
  const w = createPromWriter();
  const l = { model_name: engine.model, engine: '0' };
  const s = engine.stats();
  const c = engine.counters();
  w.gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', [[l, s.running]]);
  w.gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', [[l, s.waiting]]);
  w.gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', [[l, s.kvUsage]]);
  w.counter(
    'vllm:prefix_cache_queries',
    'Prefix cache queries, in terms of number of queried tokens.',
    [[l, c.prefixQueries]],
    createdSec,
  );
  w.counter(
    'vllm:prefix_cache_hits',
    'Prefix cache hits, in terms of number of cached tokens.',
    [[l, c.prefixHits]],
    createdSec,
  );
  w.counter(
    'vllm:num_preemptions',
    'Cumulative number of preemption from the engine.',
    [[l, c.preemptions]],
    createdSec,
  );
  w.counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', [[l, c.promptTokens]], createdSec);
  w.counter(
    'vllm:generation_tokens',
    'Number of generation tokens processed.',
    [[l, c.generationTokens]],
    createdSec,
  );
  w.counter(
    'vllm:request_success',
    'Count of successfully processed requests.',
    (['stop', 'length', 'abort'] as const).map((r) => [{ ...l, finished_reason: r }, c.finished[r]] as const),
    createdSec,
  );
  w.histogram(
    'vllm:time_to_first_token_seconds',
    'Histogram of time to first token in seconds.',
    [[l, c.ttft]],
    createdSec,
  );
  w.histogram(
    'vllm:inter_token_latency_seconds',
    'Histogram of inter-token latency in seconds.',
    [[l, c.itl]],
    createdSec,
  );
  w.histogram(
    'vllm:e2e_request_latency_seconds',
    'Histogram of e2e request latency in seconds.',
    [[l, c.e2e]],
    createdSec,
  );
  w.gauge('vllm:cache_config_info', 'Information of the LLMEngine CacheConfig', [
    [
      {
        block_size: String(engine.blockSize),
        cache_dtype: 'auto',
        calculate_kv_scales: 'False',
        cpu_offload_gb: '0',
        enable_prefix_caching: engine.enablePrefixCaching ? 'True' : 'False',
        engine: '0',
        gpu_memory_utilization: '0.9',
        is_attention_free: 'False',
        num_cpu_blocks: 'None',
        num_gpu_blocks: String(engine.numBlocks),
        num_gpu_blocks_override: 'None',
        prefix_caching_hash_algo: 'sha256',
        sliding_window: 'None',
        swap_space: '4',
      },
      1,
    ],
  ]);
  return w.text();
}
