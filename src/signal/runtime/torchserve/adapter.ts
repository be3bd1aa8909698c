/**
 * The TorchServe adapter (reference §4.1). Three ports: inference (`/ping`), management (default
 * 8081: list models, describe each — workers and job queue — register, unregister) and metrics
 * (default 8082, Prometheus; a 404 there means metrics are off and leaves the rates absent).
 * Frontend counters are labelled `model_name`; `ts_inference_latency_microseconds` is a cumulative
 * counter, so its mean per request is Δlatency / Δrequests (kept in `TorchServeDerived`).
 */
import { z } from 'zod';
import { MeshError } from '../../../core/errors.ts';
import type { ModelState } from '../../../core/types.ts';
import {
  ACCEPT_METRICS,
  MAX_METRICS_BODY,
  getAll,
  makeRecord,
  optionalMetrics,
  parseJson,
  required,
  trimBase,
  withPort,
  type RecordBase,
} from '../adapter-kit.ts';
import { expectOk, type SendRequest } from '../control-http.ts';
import type { GetText } from '../http.ts';
import { byLabel, counter, lookupOf } from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { createRateTracker, meanPer, ratePerS } from '../rate-tracker.ts';
import type { LoadModelOptions, RuntimeAdapter, RuntimeControl, ScrapeContext } from '../types.ts';
import type { CounterReading } from '../window.ts';

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
  const out = new Map<string, TsReadings>();
  for (const [m, v] of counter(get, 'ts_inference_requests_total', model)) out.set(m, { requests: v });
  for (const [m, v] of counter(get, 'ts_inference_latency_microseconds', model))
    out.set(m, { ...out.get(m), latencyUs: v });
  return out;
}

function derive(prev: TsReadings | undefined, cur: TsReadings, windowS: number): TorchServeDerived {
  if (!prev) return {};
  const us = meanPer(prev.latencyUs, cur.latencyUs, prev.requests, cur.requests);
  return {
    requestRate: ratePerS(prev.requests, cur.requests, windowS),
    ...(us === undefined ? {} : { meanLatencyMs: us / 1000 }),
  };
}

export interface TorchServeAdapterOptions {
  endpointId: string;
  node: string;
  url: string;
  managementUrl?: string;
  metricsUrl?: string;
  gpuType?: string;
  getText: GetText;
  send?: SendRequest;
  maxMetricsBytes?: number;
  minWindowMs?: number;
}

/** Register (`source` = a .mar URL or model-store name; `config.initial_workers`, default 1) and unregister. */
export function createTorchServeControl(managementUrl: string, send: SendRequest): RuntimeControl {
  return {
    async loadModel(model: string, options: LoadModelOptions = {}) {
      if (!options.source)
        throw new MeshError('invalid_request', `registering "${model}" needs a source (.mar URL)`);
      const q = new URLSearchParams({
        url: options.source,
        model_name: model,
        initial_workers: options.config?.initial_workers ?? '1',
        synchronous: 'true',
      });
      for (const [k, v] of Object.entries(options.config ?? {})) if (k !== 'initial_workers') q.set(k, v);
      expectOk(
        await send(`${managementUrl}/models?${q.toString()}`, { method: 'POST' }),
        `register "${model}"`,
      );
    },
    async unloadModel(model: string) {
      const res = await send(`${managementUrl}/models/${encodeURIComponent(model)}`, { method: 'DELETE' });
      expectOk(res, `unregister "${model}"`);
    },
  };
}

/** An adapter for one TorchServe endpoint. */
export function createTorchServeAdapter(options: TorchServeAdapterOptions): RuntimeAdapter {
  const baseUrl = trimBase(options.url);
  const mgmt = trimBase(options.managementUrl ?? withPort(baseUrl, 8081));
  const metricsUrl = options.metricsUrl ?? withPort(baseUrl, 8082, '/metrics');
  const base: RecordBase = {
    endpointId: options.endpointId,
    endpointUrl: baseUrl,
    node: options.node,
    ...(options.gpuType === undefined ? {} : { gpuType: options.gpuType }),
  };
  const tracker = createRateTracker(derive, { minWindowMs: options.minWindowMs });
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [ping, list, metrics] = await getAll(options.getText, signal, [
        { url: `${baseUrl}/ping`, accept: 'application/json' },
        { url: `${mgmt}/models?limit=1000`, accept: 'application/json' },
        { url: metricsUrl, maxBytes: options.maxMetricsBytes ?? MAX_METRICS_BODY, accept: ACCEPT_METRICS },
      ]);
      const names = parseJson(
        required(list!, `${mgmt}/models`),
        `${mgmt}/models`,
        listSchema,
        'a TorchServe model list',
      ).models.map((m) => m.modelName);
      const exposition = optionalMetrics(metrics!, metricsUrl);
      const described = await getAll(
        options.getText,
        signal,
        names.map((n) => ({ url: `${mgmt}/models/${encodeURIComponent(n)}`, accept: 'application/json' })),
      );
      const healthy =
        ping?.status === 'fulfilled' && ping.value.status === 200 && /"Healthy"/.test(ping.value.body);
      const derived = tracker.update(
        exposition ? extractTorchServe(exposition) : new Map<string, TsReadings>(),
        now,
      );
      return names.map((model, i) => {
        const url = `${mgmt}/models/${model}`;
        const versions = parseJson(
          required(described[i]!, url),
          url,
          describeSchema,
          'a TorchServe model description',
        );
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
