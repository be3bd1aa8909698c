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
  fraction,
  getAll,
  makeRecord,
  metricsRequest,
  optionalReadings,
  recordBase,
  requiredJson,
} from '../adapter-kit.ts';
import {
  byLabel,
  counter,
  gauge,
  histogram,
  joinByModel,
  lookupOf,
  type ModelOf,
} from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import { createRateTracker, p95Ms, ratePerS } from '../rate-tracker.ts';
import { lifecycleOf, modelStatusSchema } from '../tfserving/model-status.ts';
import type { AdapterOptions, RuntimeAdapter, ScrapeContext } from '../types.ts';
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
  return joinByModel<OvmsReadings>({
    current: gauge(get, M.current, name),
    active: gauge(get, M.active, name),
    nireq: gauge(get, M.nireq, name),
    success: counter(get, M.success, inference),
    requestTime: histogram(get, M.requestTimeUs, inference),
  });
}

const derive = (prev: OvmsReadings | undefined, cur: OvmsReadings, windowS: number) =>
  prev
    ? {
        requestRate: ratePerS(prev.success, cur.success, windowS),
        e2eP95Ms: p95Ms(prev.requestTime, cur.requestTime, 0.001),
      }
    : {};

export interface OvmsAdapterOptions extends AdapterOptions {
  /** Default `${url}/metrics` (the REST port). */
  metricsUrl?: string;
}

/** An adapter for one OVMS endpoint (its REST port). */
export function createOvmsAdapter(options: OvmsAdapterOptions): RuntimeAdapter {
  const base = recordBase(options);
  const baseUrl = base.endpointUrl;
  const metricsUrl = options.metricsUrl ?? `${baseUrl}/metrics`;
  const tracker = createRateTracker(derive, options);
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [config, metrics] = await getAll(options.getText, signal, [
        { url: `${baseUrl}/v1/config`, accept: 'application/json' },
        metricsRequest(metricsUrl, options),
      ]);
      const status = requiredJson(
        config!,
        `${baseUrl}/v1/config`,
        configStatusSchema,
        'an OVMS config status',
      );
      const readings = optionalReadings(metrics!, metricsUrl, extractOvms);
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
