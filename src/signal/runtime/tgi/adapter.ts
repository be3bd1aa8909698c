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
  fraction,
  getAll,
  isOk,
  makeRecord,
  metricsRequest,
  recordBase,
  requiredJson,
  requiredMetrics,
} from '../adapter-kit.ts';
import { counter, gauge, histogram, lookupOf, type ModelOf } from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { addRates, createRateTracker, p95Ms, ratePerS, type WindowSignals } from '../rate-tracker.ts';
import type { AdapterOptions, RuntimeAdapter, ScrapeContext } from '../types.ts';
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

function derive(prev: TgiReadings | undefined, cur: TgiReadings, windowS: number): WindowSignals {
  if (!prev) return {};
  return {
    requestRate: ratePerS(prev.success, cur.success, windowS),
    tokenRate: addRates(
      ratePerS(prev.inputTokens, cur.inputTokens, windowS),
      ratePerS(prev.generatedTokens, cur.generatedTokens, windowS),
    ),
    e2eP95Ms: p95Ms(prev.duration, cur.duration),
    itlP95Ms: p95Ms(prev.timePerToken, cur.timePerToken),
  };
}

/** An adapter for one TGI endpoint. */
export function createTgiAdapter(options: AdapterOptions): RuntimeAdapter {
  const base = recordBase(options);
  const baseUrl = base.endpointUrl;
  const tracker = createRateTracker(derive, options);
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [info, metrics, health] = await getAll(options.getText, signal, [
        { url: `${baseUrl}/info`, accept: 'application/json' },
        metricsRequest(`${baseUrl}/metrics`, options),
        { url: `${baseUrl}/health` },
      ]);
      const model = requiredJson(info!, `${baseUrl}/info`, tgiInfoSchema, 'TGI /info').model_id;
      const r = extractTgi(requiredMetrics(metrics!, `${baseUrl}/metrics`));
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
