/**
 * The TGI flavour's `/metrics` page as TGI's Rust exporter (metrics-exporter-prometheus) writes
 * it: no `_total` on counters, no model label (one process serves one model), integers without
 * `.0`, HELP only on described families, a blank line between families, labels before `le`.
 */
import type { SimEngine } from '../../engine.ts';
import type { Histogram } from '../../histogram.ts';
import type { TgiStats } from './stats.ts';

/** What TGI's Prometheus endpoint answers with. */
export const TGI_METRICS_CONTENT_TYPE = 'text/plain; charset=utf-8';

const num = (v: number): string => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : 'NaN');

function family(name: string, type: string, help: string | undefined, lines: string[]): string {
  return [...(help ? [`# HELP ${name} ${help}`] : []), `# TYPE ${name} ${type}`, ...lines].join('\n');
}

function histogramLines(name: string, h: Histogram): string[] {
  let cum = 0;
  const lines = h.buckets.map((le, i) => {
    cum += h.counts[i] ?? 0;
    return `${name}_bucket{le="${num(le)}"} ${cum}`;
  });
  lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${num(h.sum)}`, `${name}_count ${h.count}`);
  return lines;
}

/** Renders the page from the engine's live state and the flavour's request stats. */
export function renderTgiMetrics(engine: SimEngine, stats: TgiStats): string {
  const s = engine.stats();
  // Tokens the running batch holds in the KV cache: the closest engine fact to TGI's batch tokens.
  const batchTokens = Math.round(s.kvUsage * engine.numBlocks * engine.blockSize);
  const failures = Object.entries(stats.failure).map(([err, n]) => `tgi_request_failure{err="${err}"} ${n}`);
  const families = [
    family('tgi_request_count', 'counter', 'Total number of requests', [
      `tgi_request_count ${stats.requests}`,
    ]),
    family('tgi_request_success', 'counter', 'Number of successful requests', [
      `tgi_request_success ${stats.success}`,
    ]),
    ...(failures.length > 0 ? [family('tgi_request_failure', 'counter', undefined, failures)] : []),
    family('tgi_queue_size', 'gauge', 'Current queue size', [`tgi_queue_size ${s.waiting}`]),
    family('tgi_batch_current_size', 'gauge', 'Current batch size', [`tgi_batch_current_size ${s.running}`]),
    family('tgi_batch_current_max_tokens', 'gauge', 'Maximum tokens for the current batch', [
      `tgi_batch_current_max_tokens ${batchTokens}`,
    ]),
    family('tgi_batch_max_total_tokens', 'gauge', 'Maximum amount of tokens in total.', [
      `tgi_batch_max_total_tokens ${engine.numBlocks * engine.blockSize}`,
    ]),
    family(
      'tgi_request_duration',
      'histogram',
      'Request duration',
      histogramLines('tgi_request_duration', stats.duration),
    ),
    family(
      'tgi_request_mean_time_per_token_duration',
      'histogram',
      'Mean time per token per request',
      histogramLines('tgi_request_mean_time_per_token_duration', stats.meanTimePerToken),
    ),
    family(
      'tgi_request_input_length',
      'histogram',
      'Input token length per request',
      histogramLines('tgi_request_input_length', stats.inputLength),
    ),
    family(
      'tgi_request_generated_tokens',
      'histogram',
      'Generated tokens per request',
      histogramLines('tgi_request_generated_tokens', stats.generatedTokens),
    ),
    family(
      'tgi_request_max_new_tokens',
      'histogram',
      'Maximum new tokens per request',
      histogramLines('tgi_request_max_new_tokens', stats.maxNewTokens),
    ),
  ];
  return `${families.join('\n\n')}\n\n`;
}
