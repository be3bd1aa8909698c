/**
 * The SGLang adapter (`python -m sglang.launch_server --enable-metrics`). Names and labels from
 * `sgl-project/sglang` (docs/references/production_metrics.md, python/sglang/srt/metrics/collector.py;
 * see fixtures/README.md): gauges `sglang:num_running_reqs`, `sglang:num_queue_reqs`,
 * `sglang:token_usage` (KV pool in use, 0..1), `sglang:cache_hit_rate` (prefix cache, 0..1), counters
 * `sglang:prompt_tokens_total`, `sglang:generation_tokens_total`, `sglang:num_requests_total`,
 * histograms `sglang:time_to_first_token_seconds`, `sglang:e2e_request_latency_seconds`,
 * `sglang:inter_token_latency_seconds` (older: `time_per_output_token_seconds`). Every series carries
 * `model_name`; newer builds add rank labels (`tp_rank`, `dp_rank`, …), summed/averaged away here.
 * Models from its OpenAI `/v1/models`; `/health` answers 200 once the scheduler is up.
 */
import type { ModelState } from '../../../core/types.ts';
import {
  fraction,
  getAll,
  isOk,
  makeRecord,
  metricsRequest,
  recordBase,
  requiredJson,
  requiredMetrics,
} from '../adapter-kit.ts';
import {
  byLabel,
  counter,
  createdOf,
  firstOf,
  gauge,
  histogram,
  joinByModel,
  lookupOf,
} from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { addRates, createRateTracker, p95Ms, ratePerS, type WindowSignals } from '../rate-tracker.ts';
import type { AdapterOptions, RuntimeAdapter, ScrapeContext } from '../types.ts';
import { modelListSchema } from '../vllm/models.ts';
import type { CounterReading, HistogramReading } from '../window.ts';

export const SGLANG_METRICS = {
  running: 'sglang:num_running_reqs',
  queue: 'sglang:num_queue_reqs',
  tokenUsage: 'sglang:token_usage',
  cacheHitRate: 'sglang:cache_hit_rate',
  promptTokens: 'sglang:prompt_tokens_total',
  generationTokens: 'sglang:generation_tokens_total',
  requests: 'sglang:num_requests_total',
  ttft: 'sglang:time_to_first_token_seconds',
  e2e: 'sglang:e2e_request_latency_seconds',
  itl: ['sglang:inter_token_latency_seconds', 'sglang:time_per_output_token_seconds'],
} as const;

export interface SglangReadings {
  running?: number;
  queue?: number;
  tokenUsage?: number;
  cacheHitRate?: number;
  promptTokens?: CounterReading;
  generationTokens?: CounterReading;
  requests?: CounterReading;
  ttft?: HistogramReading;
  e2e?: HistogramReading;
  itl?: HistogramReading;
}

const model = byLabel('model_name');

/** Per-model readings of one SGLang page. */
export function extractSglang(exposition: Exposition): Map<string, SglangReadings> {
  const get = lookupOf(exposition, (n) => n.replaceAll(':', '_'));
  const M = SGLANG_METRICS;
  return joinByModel<SglangReadings>({
    running: gauge(get, M.running, model),
    queue: gauge(get, M.queue, model),
    tokenUsage: gauge(get, M.tokenUsage, model, 'mean'),
    cacheHitRate: gauge(get, M.cacheHitRate, model, 'mean'),
    promptTokens: counter(get, M.promptTokens, model, createdOf(M.promptTokens)),
    generationTokens: counter(get, M.generationTokens, model, createdOf(M.generationTokens)),
    requests: counter(get, M.requests, model, createdOf(M.requests)),
    ttft: histogram(get, M.ttft, model),
    e2e: histogram(get, M.e2e, model),
    itl: firstOf(M.itl, (n) => histogram(get, n, model)),
  });
}

/** No `prefixCacheHitRate`: SGLang's own gauge gives it (a key here would override it in the record). */
function derive(
  prev: SglangReadings | undefined,
  cur: SglangReadings,
  windowS: number,
): Omit<WindowSignals, 'prefixCacheHitRate'> {
  if (!prev) return {};
  return {
    requestRate: ratePerS(prev.requests, cur.requests, windowS),
    tokenRate: addRates(
      ratePerS(prev.promptTokens, cur.promptTokens, windowS),
      ratePerS(prev.generationTokens, cur.generationTokens, windowS),
    ),
    ttftP95Ms: p95Ms(prev.ttft, cur.ttft),
    e2eP95Ms: p95Ms(prev.e2e, cur.e2e),
    itlP95Ms: p95Ms(prev.itl, cur.itl),
  };
}

/** An adapter for one SGLang endpoint. */
export function createSglangAdapter(options: AdapterOptions): RuntimeAdapter {
  const base = recordBase(options);
  const baseUrl = base.endpointUrl;
  const tracker = createRateTracker(derive, options);
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [metrics, models, health] = await getAll(options.getText, signal, [
        metricsRequest(`${baseUrl}/metrics`, options),
        { url: `${baseUrl}/v1/models`, accept: 'application/json' },
        { url: `${baseUrl}/health` },
      ]);
      const readings = extractSglang(requiredMetrics(metrics!, `${baseUrl}/metrics`));
      const listed = requiredJson(
        models!,
        `${baseUrl}/v1/models`,
        modelListSchema,
        'an OpenAI model list',
      ).data.map((m) => m.id);
      const derived = tracker.update(readings, now);
      const warming = !isOk(health);
      const ids = [...new Set([...listed, ...readings.keys()])];
      // SGLang serves one model per server: a listed id without series of its own reads the only one.
      const only = readings.size === 1 ? [...readings.keys()][0] : undefined;
      return ids.map((id) => {
        const source = readings.has(id) ? id : only;
        const r = source === undefined ? undefined : readings.get(source);
        const d = source === undefined ? undefined : derived.get(source);
        return makeRecord(
          base,
          {
            model: id,
            runtime: 'sglang',
            loaded: listed.includes(id),
            warming,
            queueDepth: r?.queue,
            running: r?.running,
            kvCacheUsage: fraction(r?.tokenUsage),
            prefixCacheHitRate: fraction(r?.cacheHitRate),
            ...d,
            protocols: ['openai'],
            canLoad: false,
            canUnload: false,
          },
          now,
        );
      });
    },
  };
}
