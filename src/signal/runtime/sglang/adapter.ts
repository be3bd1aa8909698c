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
  ACCEPT_METRICS,
  MAX_METRICS_BODY,
  fraction,
  getAll,
  isOk,
  makeRecord,
  parseJson,
  parseMetrics,
  required,
  trimBase,
  type RecordBase,
} from '../adapter-kit.ts';
import type { GetText } from '../http.ts';
import { byLabel, counter, firstOf, gauge, histogram, lookupOf } from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { createRateTracker, p95Ms, ratePerS } from '../rate-tracker.ts';
import type { RuntimeAdapter, ScrapeContext } from '../types.ts';
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
const created = (name: string) => name.replace(/_total$/, '_created');

/** Per-model readings of one SGLang page. */
export function extractSglang(exposition: Exposition): Map<string, SglangReadings> {
  const get = lookupOf(exposition, (n) => n.replaceAll(':', '_'));
  const M = SGLANG_METRICS;
  const out = new Map<string, SglangReadings>();
  const put = <K extends keyof SglangReadings>(key: K, values: Map<string, SglangReadings[K]>) => {
    for (const [m, v] of values) {
      let r = out.get(m);
      if (!r) out.set(m, (r = {}));
      r[key] = v;
    }
  };
  put('running', gauge(get, M.running, model));
  put('queue', gauge(get, M.queue, model));
  put('tokenUsage', gauge(get, M.tokenUsage, model, 'mean'));
  put('cacheHitRate', gauge(get, M.cacheHitRate, model, 'mean'));
  put('promptTokens', counter(get, M.promptTokens, model, created(M.promptTokens)));
  put('generationTokens', counter(get, M.generationTokens, model, created(M.generationTokens)));
  put('requests', counter(get, M.requests, model, created(M.requests)));
  put('ttft', histogram(get, M.ttft, model));
  put('e2e', histogram(get, M.e2e, model));
  put(
    'itl',
    firstOf(M.itl, (n) => histogram(get, n, model)),
  );
  return out;
}

interface SglangDerived {
  requestRate?: number;
  tokenRate?: number;
  ttftP95Ms?: number;
  e2eP95Ms?: number;
  itlP95Ms?: number;
}

function derive(prev: SglangReadings | undefined, cur: SglangReadings, windowS: number): SglangDerived {
  if (!prev) return {};
  const prompt = ratePerS(prev.promptTokens, cur.promptTokens, windowS);
  const generated = ratePerS(prev.generationTokens, cur.generationTokens, windowS);
  return {
    requestRate: ratePerS(prev.requests, cur.requests, windowS),
    tokenRate: prompt === undefined || generated === undefined ? undefined : prompt + generated,
    ttftP95Ms: p95Ms(prev.ttft, cur.ttft),
    e2eP95Ms: p95Ms(prev.e2e, cur.e2e),
    itlP95Ms: p95Ms(prev.itl, cur.itl),
  };
}

export interface SglangAdapterOptions {
  endpointId: string;
  node: string;
  url: string;
  gpuType?: string;
  getText: GetText;
  maxMetricsBytes?: number;
  minWindowMs?: number;
}

/** An adapter for one SGLang endpoint. */
export function createSglangAdapter(options: SglangAdapterOptions): RuntimeAdapter {
  const baseUrl = trimBase(options.url);
  const base: RecordBase = {
    endpointId: options.endpointId,
    endpointUrl: baseUrl,
    node: options.node,
    ...(options.gpuType === undefined ? {} : { gpuType: options.gpuType }),
  };
  const tracker = createRateTracker(derive, { minWindowMs: options.minWindowMs });
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [metrics, models, health] = await getAll(options.getText, signal, [
        {
          url: `${baseUrl}/metrics`,
          maxBytes: options.maxMetricsBytes ?? MAX_METRICS_BODY,
          accept: ACCEPT_METRICS,
        },
        { url: `${baseUrl}/v1/models`, accept: 'application/json' },
        { url: `${baseUrl}/health` },
      ]);
      const readings = extractSglang(
        parseMetrics(required(metrics!, `${baseUrl}/metrics`), `${baseUrl}/metrics`),
      );
      const listed = parseJson(
        required(models!, `${baseUrl}/v1/models`),
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
