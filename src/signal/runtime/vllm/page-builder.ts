/**
 * Builds vLLM V1 /metrics pages the way prometheus_client renders them (text format, sorted label
 * names, `_created` gauges), so tests can move counters between scrapes. The names and bucket
 * bounds are vLLM's (reference doc §1.1/§1.2); the numbers are the test's.
 */
import { formatValue } from '../prometheus/index.ts';

export interface EnginePage {
  engine?: string;
  running?: number;
  waiting?: number;
  kvUsage?: number;
  success?: number;
  prompt?: number;
  generation?: number;
  prefixHits?: number;
  prefixQueries?: number;
  /** Cumulative TTFT bucket counts, aligned with `TTFT_BUCKETS` then +Inf. */
  ttft?: number[];
  e2e?: number[];
  /** `_created` value of every counter and histogram (a restart changes it). */
  created?: number;
  numGpuBlocks?: number;
}

/** vLLM V1 TTFT bucket bounds (reference doc §1.2). */
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
  80.0, 160.0, 640.0, 2560.0,
];
/** vLLM V1 e2e-latency bucket bounds (reference doc §1.2). */
export const E2E_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
  960.0, 1920.0, 7680.0,
];

const le = (v: number) => (Number.isInteger(v) ? v.toFixed(1) : String(v));

/** A page for one model over one or more engines (data-parallel when several). */
export function vllmPage(model: string, engines: EnginePage[]): string {
  const out: string[] = [];
  const lab = (e: EnginePage, extra = '') =>
    `{${e.engine === undefined ? '' : `engine="${e.engine}",`}${extra}model_name="${model}"}`;
  const family = (name: string, type: string, line: (e: EnginePage) => string[]) => {
    out.push(`# HELP ${name} ${name}.`, `# TYPE ${name} ${type}`);
    for (const e of engines) out.push(...line(e));
  };
  const gauge = (name: string, pick: (e: EnginePage) => number | undefined) =>
    family(name, 'gauge', (e) =>
      pick(e) === undefined ? [] : [`${name}${lab(e)} ${formatValue(pick(e)!)}`],
    );
  const counter = (name: string, pick: (e: EnginePage) => number | undefined, extra = '') => {
    family(`${name}_total`, 'counter', (e) =>
      pick(e) === undefined ? [] : [`${name}_total${lab(e, extra)} ${formatValue(pick(e)!)}`],
    );
    family(`${name}_created`, 'gauge', (e) =>
      pick(e) === undefined ? [] : [`${name}_created${lab(e, extra)} ${formatValue(e.created ?? 1.75e9)}`],
    );
  };
  const histogram = (name: string, bounds: number[], pick: (e: EnginePage) => number[] | undefined) => {
    family(name, 'histogram', (e) => {
      const counts = pick(e);
      if (!counts) return [];
      const total = counts[counts.length - 1] ?? 0;
      const lines = bounds.map(
        (b, i) => `${name}_bucket${lab(e, `le="${le(b)}",`)} ${formatValue(counts[i] ?? total)}`,
      );
      return [
        ...lines,
        `${name}_bucket${lab(e, 'le="+Inf",')} ${formatValue(total)}`,
        `${name}_count${lab(e)} ${formatValue(total)}`,
        `${name}_sum${lab(e)} 1.0`,
      ];
    });
    family(`${name}_created`, 'gauge', (e) =>
      pick(e) ? [`${name}_created${lab(e)} ${formatValue(e.created ?? 1.75e9)}`] : [],
    );
  };
  out.push(
    '# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig',
    '# TYPE vllm:cache_config_info gauge',
  );
  for (const e of engines) {
    const eng = e.engine === undefined ? '' : `engine="${e.engine}",`;
    out.push(
      `vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",${eng}num_gpu_blocks="${e.numGpuBlocks ?? 'None'}"} 1.0`,
    );
  }
  gauge('vllm:num_requests_running', (e) => e.running);
  gauge('vllm:num_requests_waiting', (e) => e.waiting);
  gauge('vllm:kv_cache_usage_perc', (e) => e.kvUsage);
  counter('vllm:prefix_cache_queries', (e) => e.prefixQueries);
  counter('vllm:prefix_cache_hits', (e) => e.prefixHits);
  counter('vllm:prompt_tokens', (e) => e.prompt);
  counter('vllm:generation_tokens', (e) => e.generation);
  counter('vllm:request_success', (e) => e.success, 'finished_reason="stop",');
  histogram('vllm:time_to_first_token_seconds', TTFT_BUCKETS, (e) => e.ttft);
  histogram('vllm:e2e_request_latency_seconds', E2E_BUCKETS, (e) => e.e2e);
  return `${out.join('\n')}\n`;
}
