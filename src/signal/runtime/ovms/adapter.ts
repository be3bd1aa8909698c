/**
 * The OpenVINO Model Server adapter (reference §4.3). Models and their version states from the
 * config status API `GET /v1/config` (TF-Serving-style status per model); load signals from
 * `/metrics` on the REST port when `--metrics_enable` is on (404 otherwise: signals absent).
 * Series are labelled `name` (and `version`, absent on ModelReady). Requests count the inference
 * methods only (`ModelInfer`, `Predict`), not metadata or readiness calls.
 */
import { z } from 'zod';
import type { ModelState } from '../../../core/types.ts';
import {
  ACCEPT_METRICS,
  MAX_METRICS_BODY,
  fraction,
  getAll,
  makeRecord,
  optionalMetrics,
  parseJson,
  required,
  trimBase,
  type RecordBase,
} from '../adapter-kit.ts';
import type { GetText } from '../http.ts';
import { byLabel, counter, gauge, histogram, lookupOf, type ModelOf } from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { createRateTracker, p95Ms, ratePerS } from '../rate-tracker.ts';
import { lifecycleOf, modelStatusSchema } from '../tfserving/model-status.ts';
import type { RuntimeAdapter, ScrapeContext } from '../types.ts';
import type { CounterReading, HistogramReading } from '../window.ts';

export const configStatusSchema = z.record(z.string(), modelStatusSchema);

export const OVMS_METRICS = {
  success: 'ovms_requests_success',
  current: 'ovms_current_requests',
  active: 'ovms_infer_req_active',
  nireq: 'ovms_infer_req_queue_size',
  requestTimeUs: 'ovms_request_time_us',
} as const;

const INFERENCE_METHODS = new Set(['ModelInfer', 'Predict']);

interface OvmsReadings {
  current?: number;
  active?: number;
  nireq?: number;
  success?: CounterReading;
  requestTime?: HistogramReading;
}

/** Per-model readings of an OVMS page. */
export function extractOvms(exposition: Exposition): Map<string, OvmsReadings> {
  const get = lookupOf(exposition);
  const name = byLabel('name');
  const inference: ModelOf = (l) => (INFERENCE_METHODS.has(l.method ?? '') ? l.name : undefined);
  const M = OVMS_METRICS;
  const out = new Map<string, OvmsReadings>();
  const put = <K extends keyof OvmsReadings>(key: K, values: Map<string, OvmsReadings[K]>) => {
    for (const [m, v] of values) out.set(m, { ...out.get(m), [key]: v });
  };
  put('current', gauge(get, M.current, name));
  put('active', gauge(get, M.active, name));
  put('nireq', gauge(get, M.nireq, name));
  put('success', counter(get, M.success, inference));
  put('requestTime', histogram(get, M.requestTimeUs, inference));
  return out;
}

const derive = (prev: OvmsReadings | undefined, cur: OvmsReadings, windowS: number) =>
  prev
    ? {
        requestRate: ratePerS(prev.success, cur.success, windowS),
        e2eP95Ms: p95Ms(prev.requestTime, cur.requestTime, 0.001),
      }
    : {};

export interface OvmsAdapterOptions {
  endpointId: string;
  node: string;
  url: string;
  metricsUrl?: string;
  gpuType?: string;
  getText: GetText;
  maxMetricsBytes?: number;
  minWindowMs?: number;
}

/** An adapter for one OVMS endpoint (its REST port). */
export function createOvmsAdapter(options: OvmsAdapterOptions): RuntimeAdapter {
  const baseUrl = trimBase(options.url);
  const metricsUrl = options.metricsUrl ?? `${baseUrl}/metrics`;
  const base: RecordBase = {
    endpointId: options.endpointId,
    endpointUrl: baseUrl,
    node: options.node,
    ...(options.gpuType === undefined ? {} : { gpuType: options.gpuType }),
  };
  const tracker = createRateTracker(derive, { minWindowMs: options.minWindowMs });
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [config, metrics] = await getAll(options.getText, signal, [
        { url: `${baseUrl}/v1/config`, accept: 'application/json' },
        { url: metricsUrl, maxBytes: options.maxMetricsBytes ?? MAX_METRICS_BODY, accept: ACCEPT_METRICS },
      ]);
      const status = parseJson(
        required(config!, `${baseUrl}/v1/config`),
        `${baseUrl}/v1/config`,
        configStatusSchema,
        'an OVMS config status',
      );
      const exposition = optionalMetrics(metrics!, metricsUrl);
      const readings = exposition ? extractOvms(exposition) : new Map<string, OvmsReadings>();
      const derived = tracker.update(readings, now);
      return Object.keys(status).map((model) => {
        const r = readings.get(model);
        const d = derived.get(model);
        // In the server but not holding an OpenVINO infer request: waiting for one.
        const waiting =
          r?.current !== undefined && r.active !== undefined ? Math.max(0, r.current - r.active) : undefined;
        return makeRecord(
          base,
          {
            model,
            runtime: 'ovms',
            ...lifecycleOf(status[model]),
            queueDepth: waiting,
            running: r?.active,
            batchFullness: r?.active !== undefined && r.nireq ? fraction(r.active / r.nireq) : undefined,
            requestRate: d?.requestRate,
            e2eP95Ms: d?.e2eP95Ms,
            protocols: ['kserve-v2', 'tfserving'],
            canLoad: false,
            canUnload: false,
          },
          now,
        );
      });
    },
  };
}
