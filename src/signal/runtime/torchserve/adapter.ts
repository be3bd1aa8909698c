/**
 * The TorchServe adapter (reference §4.1). Three ports: inference (`/ping`), management (default
 * 8081: list models, describe each — workers and job queue — register, unregister) and metrics
 * (default 8082, Prometheus; a 404 there means metrics are off and leaves the rates absent).
 * Frontend counters are labelled `model_name`; `ts_inference_latency_microseconds` is a cumulative
 * counter, so its mean per request is Δlatency / Δrequests (kept in `TorchServeDerived`).
 */
import { z } from 'zod';
import type { ModelState } from '../../../core/types.ts';
import {
  getAll,
  makeRecord,
  metricsRequest,
  optionalReadings,
  recordBase,
  requiredJson,
  trimBase,
  withPort,
} from '../adapter-kit.ts';
import type { SendRequest } from '../control-http.ts';
import { byLabel, counter, joinByModel, lookupOf } from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { createRateTracker, meanPer, ratePerS } from '../rate-tracker.ts';
import type { AdapterOptions, RuntimeAdapter, ScrapeContext } from '../types.ts';
import type { CounterReading } from '../window.ts';
import { createTorchServeControl } from './management-control.ts';

export const listSchema = z.object({
  models: z.array(z.object({ modelName: z.string().min(1) })),
  nextPageToken: z.string().optional(),
});
/** `GET /models/{name}`: an array, one entry per version. */
export const describeSchema = z.array(
  z.object({
    modelName: z.string(),
    modelVersion: z.string().optional(),
    minWorkers: z.number().optional(),
    workers: z.array(z.object({ status: z.string() })).default([]),
    jobQueueStatus: z.object({ pendingRequests: z.number() }).optional(),
  }),
);

interface TsReadings {
  requests?: CounterReading;
  latencyUs?: CounterReading;
}

export interface TorchServeDerived {
  requestRate?: number;
  meanLatencyMs?: number;
}

/** Per-model frontend counters of one page. */
export function extractTorchServe(exposition: Exposition): Map<string, TsReadings> {
  const get = lookupOf(exposition);
  const model = byLabel('model_name');
  return joinByModel<TsReadings>({
    requests: counter(get, 'ts_inference_requests_total', model),
    latencyUs: counter(get, 'ts_inference_latency_microseconds', model),
  });
}

function derive(prev: TsReadings | undefined, cur: TsReadings, windowS: number): TorchServeDerived {
  if (!prev) return {};
  const us = meanPer(prev.latencyUs, cur.latencyUs, prev.requests, cur.requests);
  return {
    requestRate: ratePerS(prev.requests, cur.requests, windowS),
    ...(us === undefined ? {} : { meanLatencyMs: us / 1000 }),
  };
}

export interface TorchServeAdapterOptions extends AdapterOptions {
  /** Default: the inference URL's host on port 8081. */
  managementUrl?: string;
  /** Default: the inference URL's host on port 8082. */
  metricsUrl?: string;
  /** For register/unregister; without it the adapter has no `control`. */
  send?: SendRequest;
}

/** An adapter for one TorchServe endpoint. */
export function createTorchServeAdapter(options: TorchServeAdapterOptions): RuntimeAdapter {
  const base = recordBase(options);
  const baseUrl = base.endpointUrl;
  const mgmt = trimBase(options.managementUrl ?? withPort(baseUrl, 8081));
  const metricsUrl = options.metricsUrl ?? withPort(baseUrl, 8082, '/metrics');
  const tracker = createRateTracker(derive, options);
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [ping, list, metrics] = await getAll(options.getText, signal, [
        { url: `${baseUrl}/ping`, accept: 'application/json' },
        { url: `${mgmt}/models?limit=1000`, accept: 'application/json' },
        metricsRequest(metricsUrl, options),
      ]);
      const names = requiredJson(list!, `${mgmt}/models`, listSchema, 'a TorchServe model list').models.map(
        (m) => m.modelName,
      );
      const readings = optionalReadings(metrics!, metricsUrl, extractTorchServe);
      const described = await getAll(
        options.getText,
        signal,
        names.map((n) => ({ url: `${mgmt}/models/${encodeURIComponent(n)}`, accept: 'application/json' })),
      );
      const healthy =
        ping?.status === 'fulfilled' && ping.value.status === 200 && /"Healthy"/.test(ping.value.body);
      const derived = tracker.update(readings, now);
      return names.map((model, i) => {
        const url = `${mgmt}/models/${model}`;
        const versions = requiredJson(described[i]!, url, describeSchema, 'a TorchServe model description');
        const workers = versions.flatMap((v) => v.workers);
        const ready = workers.some((w) => w.status === 'READY');
        const pending = versions.some((v) => v.jobQueueStatus)
          ? versions.reduce((n, v) => n + (v.jobQueueStatus?.pendingRequests ?? 0), 0)
          : undefined;
        const d = derived.get(model);
        return makeRecord(
          base,
          {
            model,
            runtime: 'torchserve',
            loaded: ready,
            warming: !healthy || (!ready && workers.some((w) => w.status === 'LOADING')),
            queueDepth: pending,
            requestRate: d?.requestRate,
            protocols: ['torchserve'],
            canLoad: options.send !== undefined,
            canUnload: options.send !== undefined,
          },
          now,
        );
      });
    },
    ...(options.send ? { control: createTorchServeControl(mgmt, options.send) } : {}),
  };
}
