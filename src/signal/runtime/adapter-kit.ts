/**
 * What every adapter does the same way: fetch a set of URLs under one deadline, judge the answers,
 * parse a Prometheus page or a JSON body, and turn every failure into a `ScrapeError` with the
 * closed reason set. One place, so a 5xx, a truncated body or a garbage page fails the same way
 * whatever the runtime.
 */
import type { z } from 'zod';
import type { ModelState } from '../../core/types.ts';
import type { GetText, TextResponse } from './http.ts';
import {
  PromParseError,
  formatFromContentType,
  parsePrometheus,
  type Exposition,
} from './prometheus/index.ts';
import { ScrapeError } from './scrape-error.ts';
import type { AdapterOptions } from './types.ts';

/** Plain text first: OpenMetrics would rename `vllm:`/`sglang:` to `_` in prometheus_client output. */
export const ACCEPT_METRICS = 'text/plain;version=0.0.4;q=1,text/plain;version=1.0.0;q=0.9,*/*;q=0.1';
/** Limit on JSON and health bodies. */
const MAX_SMALL_BODY = 1024 * 1024;
/** Default limit on a /metrics body. */
export const MAX_METRICS_BODY = 8 * 1024 * 1024;

/** A settled GET. */
export type Answer = PromiseSettledResult<TextResponse>;

/** Removes trailing slashes so `${base}/path` never doubles one. */
export const trimBase = (url: string) => url.replace(/\/+$/, '');

/** The same URL on another port (Triton metrics on 8002, TorchServe management on 8081). */
export function withPort(url: string, port: number, path = ''): string {
  const u = new URL(url);
  u.port = String(port);
  u.pathname = path || '/';
  return trimBase(u.toString());
}

/** GETs every URL at once; a rejection stays in its slot so the caller decides what is fatal. */
export function getAll(
  getText: GetText,
  signal: AbortSignal,
  requests: Array<{ url: string; maxBytes?: number; accept?: string; post?: string }>,
): Promise<Answer[]> {
  return Promise.allSettled(
    requests.map((r) =>
      getText(r.url, {
        signal,
        maxBytes: r.maxBytes ?? MAX_SMALL_BODY,
        ...(r.accept ? { accept: r.accept } : {}),
        ...(r.post === undefined ? {} : { method: 'POST' as const, body: r.post }),
      }),
    ),
  );
}

/** The response of a required request: transport failures rethrown, non-2xx → `http_status`. */
function required(answer: Answer, url: string): TextResponse {
  if (answer.status === 'rejected') throw ScrapeError.from(answer.reason);
  const { status } = answer.value;
  if (status < 200 || status > 299)
    throw new ScrapeError('http_status', `${url} answered HTTP ${status}`, { status });
  return answer.value;
}

/** True when an optional probe (a health URL) answered 2xx. */
export const isOk = (answer: Answer | undefined): boolean =>
  answer?.status === 'fulfilled' && answer.value.status >= 200 && answer.value.status <= 299;

/** The GET of a metrics page: plain text asked for, under the endpoint's size limit. */
export const metricsRequest = (url: string, options: AdapterOptions) => ({
  url,
  maxBytes: options.maxMetricsBytes ?? MAX_METRICS_BODY,
  accept: ACCEPT_METRICS,
});

/** A required metrics page, parsed; anything that is not Prometheus text fails with reason `parse`. */
export function requiredMetrics(answer: Answer, url: string): Exposition {
  const res = required(answer, url);
  try {
    return parsePrometheus(res.body, { format: formatFromContentType(res.contentType) });
  } catch (err) {
    const where = err instanceof PromParseError ? ` (${err.message})` : '';
    throw new ScrapeError('parse', `${url} is not Prometheus text${where}`, { cause: err });
  }
}

/**
 * The per-model readings of a metrics page that may legitimately be switched off (404: OVMS
 * without `--metrics_enable`, TF Serving without a monitoring config): none then, so load signals
 * stay absent. Any other failure — 5xx, timeout, truncated body, garbage — fails the scrape like a
 * required request.
 */
export function optionalReadings<R>(
  answer: Answer,
  url: string,
  extract: (exposition: Exposition) => Map<string, R>,
): Map<string, R> {
  if (answer.status === 'fulfilled' && answer.value.status === 404) return new Map();
  return extract(requiredMetrics(answer, url));
}

/** A required JSON answer checked against a schema; a body not of that shape fails with reason `parse`. */
export function requiredJson<T>(answer: Answer, url: string, schema: z.ZodType<T>, what: string): T {
  const res = required(answer, url);
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch (err) {
    throw new ScrapeError('parse', `${url} is not JSON (${what} expected)`, { cause: err });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ScrapeError('parse', `${url} is not ${what}`);
  return parsed.data;
}

/** The identity part of a record; every adapter fills the rest. */
export interface RecordBase {
  endpointId: string;
  endpointUrl: string;
  node: string;
  gpuType?: string;
}

/** The identity every record of an endpoint carries (`endpointUrl` without a trailing slash). */
export function recordBase(options: AdapterOptions): RecordBase {
  return {
    endpointId: options.endpointId,
    endpointUrl: trimBase(options.url),
    node: options.node,
    ...(options.gpuType === undefined ? {} : { gpuType: options.gpuType }),
  };
}

/** Copies only the defined values into a record: a missing signal stays absent. */
export function defined<T extends object>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(fields) as Array<[keyof T, T[keyof T]]>) {
    if (value === undefined) continue;
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    out[key] = value;
  }
  return out;
}

/** Builds one record: identity, the runtime's fields (undefined ones dropped), `gpuType`, `updatedAt`. */
export function makeRecord(
  base: RecordBase,
  fields: Omit<ModelState, 'endpointId' | 'endpointUrl' | 'node' | 'health' | 'updatedAt' | 'gpuType'>,
  now: number,
): ModelState {
  return {
    endpointId: base.endpointId,
    endpointUrl: base.endpointUrl,
    node: base.node,
    health: 'healthy',
    ...(defined(fields) as typeof fields),
    ...(base.gpuType === undefined ? {} : { gpuType: base.gpuType }),
    updatedAt: now,
  };
}

/** Clamps a ratio to 0..1 (runtimes round; a page must never push a fraction past its range). */
export const fraction = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? undefined : Math.min(1, Math.max(0, v));
