/**
 * The TF Serving adapter (reference §4.2). TF Serving's REST API cannot list its models, so the
 * endpoint names them (`models` in config, `--model` for `meshd probe`); each is asked for at
 * `GET /v1/models/{m}`. A 404 there is a model the server does not have (`loaded: false`).
 * Metrics exist only with a monitoring config (`prometheus_config { enable: true }`), default path
 * `/monitoring/prometheus/metrics` on the REST port; a 404 leaves rates absent. The metric names
 * (`:tensorflow:serving:request_count`, `:tensorflow:serving:request_latency`, µs) are unconfirmed
 * by a capture (reference §4.2).
 */
import type { ModelState } from '../../../core/types.ts';
import {
  getAll,
  makeRecord,
  metricsRequest,
  optionalReadings,
  recordBase,
  requiredJson,
} from '../adapter-kit.ts';
import { byLabel, counter, histogram, joinByModel, lookupOf } from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { createRateTracker, p95Ms, ratePerS } from '../rate-tracker.ts';
import type { AdapterOptions, RuntimeAdapter, ScrapeContext } from '../types.ts';
import type { CounterReading, HistogramReading } from '../window.ts';
import { lifecycleOf, modelStatusSchema } from './model-status.ts';

export const TFS_METRICS = {
  requests: ':tensorflow:serving:request_count',
  latencyUs: ':tensorflow:serving:request_latency',
} as const;

interface TfsReadings {
  requests?: CounterReading;
  latency?: HistogramReading;
}

/** Per-model readings of a TF Serving monitoring page. */
export function extractTfServing(exposition: Exposition): Map<string, TfsReadings> {
  const get = lookupOf(exposition);
  const model = byLabel('model_name');
  return joinByModel<TfsReadings>({
    requests: counter(get, TFS_METRICS.requests, model),
    latency: histogram(get, TFS_METRICS.latencyUs, model),
  });
}

const derive = (prev: TfsReadings | undefined, cur: TfsReadings, windowS: number) =>
  prev
    ? {
        requestRate: ratePerS(prev.requests, cur.requests, windowS),
        e2eP95Ms: p95Ms(prev.latency, cur.latency, 0.001),
      }
    : {};

export interface TfServingAdapterOptions extends AdapterOptions {
  /** The models to ask for (TF Serving cannot list them). */
  models?: string[];
  /** Default `${url}/monitoring/prometheus/metrics`. */
  metricsUrl?: string;
}

/** An adapter for one TF Serving endpoint. */
export function createTfServingAdapter(options: TfServingAdapterOptions): RuntimeAdapter {
  const base = recordBase(options);
  const baseUrl = base.endpointUrl;
  const metricsUrl = options.metricsUrl ?? `${baseUrl}/monitoring/prometheus/metrics`;
  const models = options.models ?? [];
  const tracker = createRateTracker(derive, options);
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [metrics, ...statuses] = await getAll(options.getText, signal, [
        metricsRequest(metricsUrl, options),
        ...models.map((m) => ({
          url: `${baseUrl}/v1/models/${encodeURIComponent(m)}`,
          accept: 'application/json',
        })),
      ]);
      const derived = tracker.update(optionalReadings(metrics!, metricsUrl, extractTfServing), now);
      return models.map((model, i) => {
        const url = `${baseUrl}/v1/models/${model}`;
        const answer = statuses[i]!;
        const missing = answer.status === 'fulfilled' && answer.value.status === 404;
        const status = missing ? undefined : requiredJson(answer, url, modelStatusSchema, 'a model status');
        const d = derived.get(model);
        return makeRecord(
          base,
          {
            model,
            runtime: 'tfserving',
            ...lifecycleOf(status),
            requestRate: d?.requestRate,
            e2eP95Ms: d?.e2eP95Ms,
            protocols: ['tfserving'],
            canLoad: false,
            canUnload: false,
          },
          now,
        );
      });
    },
  };
}
