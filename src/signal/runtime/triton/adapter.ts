/**
 * The Triton adapter (reference §3): models and their state from the KServe v2 repository
 * extension (`POST /v2/repository/index`), load signals from the metrics port (`metricsUrl`,
 * default the same host on port 8002). Load/unload go through
 * `POST /v2/repository/models/{m}/load|unload`, which Triton accepts only with
 * `--model-control-mode=explicit` (otherwise it refuses: `invalid_request`).
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
import { createRateTracker, meanPer, p95Ms, ratePerS } from '../rate-tracker.ts';
import type { LoadModelOptions, RuntimeAdapter, RuntimeControl, ScrapeContext } from '../types.ts';
import { counterDelta } from '../window.ts';
import { extractTriton, type TritonReadings } from './extract.ts';

/** `POST /v2/repository/index`: `version` is a string and absent for never-loaded models. */
export const repositoryIndexSchema = z.array(
  z.object({
    name: z.string().min(1),
    version: z.string().optional(),
    state: z.string().optional(),
    reason: z.string().optional(),
  }),
);

/** Window-derived Triton signals; the means and batch size have no ModelState field yet. */
export interface TritonDerived {
  requestRate?: number;
  ttftP95Ms?: number;
  /** Δrequest_duration_us / Δrequest_success, in ms. */
  meanRequestMs?: number;
  meanQueueMs?: number;
  /** Δinference_count / Δexec_count: the mean dynamic batch size. */
  meanBatchSize?: number;
}

/** The arithmetic on two Triton readings (exported for tests). */
export function deriveTriton(
  prev: TritonReadings | undefined,
  cur: TritonReadings,
  windowS: number,
): TritonDerived {
  if (!prev) return {};
  const requestUs = meanPer(prev.requestUs, cur.requestUs, prev.success, cur.success);
  const queueUs = meanPer(prev.queueUs, cur.queueUs, prev.success, cur.success);
  const inferences = counterDelta(prev.inferences, cur.inferences);
  const executions = counterDelta(prev.executions, cur.executions);
  return {
    requestRate: ratePerS(prev.success, cur.success, windowS),
    ttftP95Ms: p95Ms(prev.firstResponse, cur.firstResponse, 1),
    ...(requestUs === undefined ? {} : { meanRequestMs: requestUs / 1000 }),
    ...(queueUs === undefined ? {} : { meanQueueMs: queueUs / 1000 }),
    ...(inferences !== undefined && executions !== undefined && executions > 0
      ? { meanBatchSize: inferences / executions }
      : {}),
  };
}

export interface TritonAdapterOptions {
  endpointId: string;
  node: string;
  url: string;
  metricsUrl?: string;
  gpuType?: string;
  getText: GetText;
  send?: SendRequest;
  maxMetricsBytes?: number;
  minWindowMs?: number;
}

/** Load/unload through the repository extension. `options.config` is passed as Triton's `parameters`. */
export function createKserveRepositoryControl(baseUrl: string, send: SendRequest): RuntimeControl {
  const call = async (model: string, op: 'load' | 'unload', body: unknown) => {
    if (!model || model.includes('/'))
      throw new MeshError('invalid_request', `"${model}" is not a model repository name`);
    const res = await send(`${baseUrl}/v2/repository/models/${encodeURIComponent(model)}/${op}`, {
      method: 'POST',
      body,
    });
    // Triton answers 400 for an unknown model as for a refused one; the message says which.
    if (res.status === 400 && /not found|failed to poll from model repository/i.test(res.body))
      res.status = 404;
    expectOk(res, `${op} model "${model}"`);
  };
  return {
    loadModel: (model: string, options: LoadModelOptions = {}) =>
      call(model, 'load', options.config ? { parameters: options.config } : {}),
    unloadModel: (model: string) => call(model, 'unload', {}),
  };
}

/** An adapter for one Triton endpoint. */
export function createTritonAdapter(options: TritonAdapterOptions): RuntimeAdapter {
  const baseUrl = trimBase(options.url);
  const metricsUrl = options.metricsUrl ?? withPort(baseUrl, 8002, '/metrics');
  const base: RecordBase = {
    endpointId: options.endpointId,
    endpointUrl: baseUrl,
    node: options.node,
    ...(options.gpuType === undefined ? {} : { gpuType: options.gpuType }),
  };
  const tracker = createRateTracker(deriveTriton, { minWindowMs: options.minWindowMs });
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [index, metrics] = await getAll(options.getText, signal, [
        { url: `${baseUrl}/v2/repository/index`, post: '{}', accept: 'application/json' },
        { url: metricsUrl, maxBytes: options.maxMetricsBytes ?? MAX_METRICS_BODY, accept: ACCEPT_METRICS },
      ]);
      const entries = parseJson(
        required(index!, `${baseUrl}/v2/repository/index`),
        `${baseUrl}/v2/repository/index`,
        repositoryIndexSchema,
        'a KServe v2 repository index',
      );
      const exposition = optionalMetrics(metrics!, metricsUrl);
      const readings = exposition ? extractTriton(exposition) : new Map<string, TritonReadings>();
      const derived = tracker.update(readings, now);
      const states = new Map<string, string[]>();
      for (const e of entries) states.set(e.name, [...(states.get(e.name) ?? []), e.state ?? 'UNAVAILABLE']);
      for (const m of readings.keys()) if (!states.has(m)) states.set(m, []);
      return [...states].map(([model, versionStates]) => {
        const r = readings.get(model);
        const d = derived.get(model);
        const loaded = versionStates.includes('READY');
        return makeRecord(
          base,
          {
            model,
            runtime: 'triton',
            loaded,
            warming: !loaded && versionStates.includes('LOADING'),
            queueDepth: r?.pending,
            requestRate: d?.requestRate,
            ttftP95Ms: d?.ttftP95Ms,
            protocols: ['kserve-v2'],
            canLoad: options.send !== undefined,
            canUnload: options.send !== undefined,
          },
          now,
        );
      });
    },
    ...(options.send ? { control: createKserveRepositoryControl(baseUrl, options.send) } : {}),
  };
}
