/**
 * The TGI adapter (Hugging Face text-generation-inference, reference §2). One TGI process serves
 * one model and labels no series with it, so a scrape reads `/info` (the model id and limits),
 * `/metrics` and `/health` at once and returns exactly one record.
 *
 * TGI's Rust exporter writes counters without `_total` and no `_created`; restarts show as a
 * counter going down (window.ts). There is no TTFT histogram, so `ttftP95Ms` stays absent.
 */
import { z } from 'zod';
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
import { counter, gauge, histogram, lookupOf, type ModelOf } from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { createRateTracker, p95Ms, ratePerS } from '../rate-tracker.ts';
import type { RuntimeAdapter, ScrapeContext } from '../types.ts';
import type { CounterReading, HistogramReading } from '../window.ts';

/** `GET /info`: only what the signal plane uses; `router` fingerprints TGI (detection). */
export const tgiInfoSchema = z.object({
  model_id: z.string().min(1),
  router: z.string().optional(),
  max_concurrent_requests: z.number().optional(),
  version: z.string().optional(),
});

export const TGI_METRICS = {
  queue: 'tgi_queue_size',
  batchSize: 'tgi_batch_current_size',
  batchTokens: 'tgi_batch_current_max_tokens',
  batchMaxTokens: 'tgi_batch_max_total_tokens',
  success: 'tgi_request_success',
  inputLength: 'tgi_request_input_length',
  generated: 'tgi_request_generated_tokens',
  duration: 'tgi_request_duration',
  timePerToken: 'tgi_request_mean_time_per_token_duration',
} as const;

interface TgiReadings {
  queue?: number;
  running?: number;
  batchTokens?: number;
  batchMaxTokens?: number;
  success?: CounterReading;
  inputTokens?: CounterReading;
  generatedTokens?: CounterReading;
  duration?: HistogramReading;
  timePerToken?: HistogramReading;
}

/** Reads one TGI page; every series belongs to the one model. */
export function extractTgi(exposition: Exposition): TgiReadings {
  const get = lookupOf(exposition);
  const one: ModelOf = () => '';
  const M = TGI_METRICS;
  const g = (name: string) => gauge(get, name, one).get('');
  return {
    queue: g(M.queue),
    running: g(M.batchSize),
    batchTokens: g(M.batchTokens),
    batchMaxTokens: g(M.batchMaxTokens),
    // Each counter is its own family without `_total`; histogram `_sum`s are counters too.
    success: counter(get, M.success, one).get(''),
    inputTokens: counter(get, `${M.inputLength}_sum`, one).get(''),
    generatedTokens: counter(get, `${M.generated}_sum`, one).get(''),
    duration: histogram(get, M.duration, one).get(''),
    timePerToken: histogram(get, M.timePerToken, one).get(''),
  };
}

interface TgiDerived {
  requestRate?: number;
  tokenRate?: number;
  e2eP95Ms?: number;
  itlP95Ms?: number;
}

function derive(prev: TgiReadings | undefined, cur: TgiReadings, windowS: number): TgiDerived {
  if (!prev) return {};
  const input = ratePerS(prev.inputTokens, cur.inputTokens, windowS);
  const generated = ratePerS(prev.generatedTokens, cur.generatedTokens, windowS);
  return {
    requestRate: ratePerS(prev.success, cur.success, windowS),
    tokenRate: input === undefined || generated === undefined ? undefined : input + generated,
    e2eP95Ms: p95Ms(prev.duration, cur.duration),
    itlP95Ms: p95Ms(prev.timePerToken, cur.timePerToken),
  };
}

export interface TgiAdapterOptions {
  endpointId: string;
  node: string;
  url: string;
  gpuType?: string;
  getText: GetText;
  maxMetricsBytes?: number;
  minWindowMs?: number;
}

/** An adapter for one TGI endpoint. */
export function createTgiAdapter(options: TgiAdapterOptions): RuntimeAdapter {
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
      const [info, metrics, health] = await getAll(options.getText, signal, [
        { url: `${baseUrl}/info`, accept: 'application/json' },
        {
          url: `${baseUrl}/metrics`,
          maxBytes: options.maxMetricsBytes ?? MAX_METRICS_BODY,
          accept: ACCEPT_METRICS,
        },
        { url: `${baseUrl}/health` },
      ]);
      const model = parseJson(
        required(info!, `${baseUrl}/info`),
        `${baseUrl}/info`,
        tgiInfoSchema,
        'TGI /info',
      ).model_id;
      const r = extractTgi(parseMetrics(required(metrics!, `${baseUrl}/metrics`), `${baseUrl}/metrics`));
      const d = tracker.update(new Map([[model, r]]), now).get(model) ?? {};
      const batchFullness =
        r.batchTokens !== undefined && r.batchMaxTokens !== undefined && r.batchMaxTokens > 0
          ? fraction(r.batchTokens / r.batchMaxTokens)
          : undefined;
      return [
        makeRecord(
          base,
          {
            model,
            runtime: 'tgi',
            loaded: true,
            warming: !isOk(health),
            queueDepth: r.queue,
            running: r.running,
            batchFullness,
            ...d,
            protocols: ['tgi', 'openai'],
            canLoad: false,
            canUnload: false,
          },
          now,
        ),
      ];
    },
  };
}
