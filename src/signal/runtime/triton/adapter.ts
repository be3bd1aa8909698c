/**
 * The Triton adapter (reference §3): models and their state from the KServe v2 repository
 * extension (`POST /v2/repository/index`), load signals from the metrics port (`metricsUrl`,
 * default the same host on port 8002). Load/unload go through
 * `POST /v2/repository/models/{m}/load|unload` (repository-control.ts).
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
  withPort,
} from '../adapter-kit.ts';
import type { SendRequest } from '../control-http.ts';
import { createRateTracker, meanPer, p95Ms, ratePerS } from '../rate-tracker.ts';
import type { AdapterOptions, RuntimeAdapter, ScrapeContext } from '../types.ts';
import { counterDelta } from '../window.ts';
import { extractTriton, type TritonReadings } from './extract.ts';
import { createKserveRepositoryControl } from './repository-control.ts';

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

export interface TritonAdapterOptions extends AdapterOptions {
  /** Default: the same host on port 8002. */
  metricsUrl?: string;
  /** For load/unload; without it the adapter has no `control`. */
  send?: SendRequest;
}

/** An adapter for one Triton endpoint. */
export function createTritonAdapter(options: TritonAdapterOptions): RuntimeAdapter {
  const base = recordBase(options);
  const baseUrl = base.endpointUrl;
  const metricsUrl = options.metricsUrl ?? withPort(baseUrl, 8002, '/metrics');
  const tracker = createRateTracker(deriveTriton, options);
  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [index, metrics] = await getAll(options.getText, signal, [
        { url: `${baseUrl}/v2/repository/index`, post: '{}', accept: 'application/json' },
        metricsRequest(metricsUrl, options),
      ]);
      const entries = requiredJson(
        index!,
        `${baseUrl}/v2/repository/index`,
        repositoryIndexSchema,
        'a KServe v2 repository index',
      );
      const readings = optionalReadings(metrics!, metricsUrl, extractTriton);
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
