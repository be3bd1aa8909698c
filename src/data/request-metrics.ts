/**
 * The data plane's per-request metric updates, made cheap and bounded: labelled children are
 * looked up once per (model, endpoint) and kept, so a request costs a few field reads, not label
 * hashing; and a model label is only ever a model the mesh knows (anything else counts as
 * `unknown`), so clients cannot mint series by naming models that do not exist.
 */
import type { MeshError } from '../core/errors.ts';
import type { MeshMetrics } from '../observability/metrics.ts';

/** Label value for a model no endpoint knows. */
export const UNKNOWN_MODEL = 'unknown';
/** Endpoint label of requests that never reached one. */
const NO_ENDPOINT = 'none';

type Histogram = { observe(seconds: number): void };
type Counter = { inc(): void };

/** The metrics of one (model, endpoint) pair. */
export interface RouteMetrics {
  /** Arrival to the first response byte. */
  readonly ttft: Histogram;
  /** One finished request: its status and outcome code (`ok`, or the mesh error code), and its duration. */
  finished(status: number, code: string, seconds: number): void;
}

export interface RequestMetrics {
  /** Metrics of requests for `model` routed to `endpoint` (a routed model is a known model). */
  route(model: string, endpoint: string): RouteMetrics;
  /** A request that failed before reaching an endpoint (rejected, or every attempt failed). */
  rejected(model: string, error: MeshError): void;
  /** A retry on another endpoint. */
  retried(model: string): void;
  /** A hedge went out. */
  hedged(model: string): void;
  /** The hedge answered first. */
  hedgeWon(model: string): void;
  /** The losing attempt of a hedged request was cancelled (`primary` or `hedge`). */
  hedgeCancelled(model: string, attempt: 'primary' | 'hedge'): void;
  /** A due hedge was not sent. */
  hedgeSuppressed(model: string, reason: string): void;
  /** A request refused because `tenant` (a tenant the control plane knows) was over a quota. */
  quotaRejected(tenant: string, model: string): void;
  /** A request of `tenant` (one the control plane knows) passed its quotas. */
  tenantAdmitted(tenant: string): void;
}

/** `knowsModel` says which names are real models (the rest are labelled `unknown`). */
export function createRequestMetrics(
  metrics: MeshMetrics,
  knowsModel: (model: string) => boolean,
): RequestMetrics {
  const routes = new Map<string, RouteMetrics>();
  const tenants = new Map<string, Counter>();
  const label = (model: string) => (model !== '' && knowsModel(model) ? model : UNKNOWN_MODEL);

  const routeMetrics = (model: string, endpoint: string): RouteMetrics => {
    const counters = new Map<string, Counter>();
    const e2e = metrics.e2e.labels({ model, endpoint });
    return {
      ttft: metrics.ttft.labels({ model, endpoint }),
      finished(status, code, seconds) {
        const key = `${status} ${code}`;
        let counter = counters.get(key);
        if (!counter) {
          counter = metrics.requests.labels({ model, endpoint, status: String(status), code });
          counters.set(key, counter);
        }
        counter.inc();
        e2e.observe(seconds);
      },
    };
  };

  return {
    route(model, endpoint) {
      const key = `${model}\u0000${endpoint}`;
      let m = routes.get(key);
      if (!m) routes.set(key, (m = routeMetrics(model, endpoint)));
      return m;
    },
    rejected(model, error) {
      metrics.requests.inc({
        model: label(model),
        endpoint: NO_ENDPOINT,
        status: String(error.httpStatus),
        code: error.code,
      });
    },
    retried(model) {
      metrics.retries.inc({ model: label(model) });
    },
    hedged(model) {
      metrics.hedges.inc({ model: label(model) });
    },
    hedgeWon(model) {
      metrics.hedgesWon.inc({ model: label(model) });
    },
    hedgeCancelled(model, attempt) {
      metrics.hedgesCancelled.inc({ model: label(model), attempt });
    },
    hedgeSuppressed(model, reason) {
      metrics.hedgesSuppressed.inc({ model: label(model), reason });
    },
    quotaRejected(tenant, model) {
      metrics.quotaRejected.inc({ tenant, model: label(model) });
    },
    tenantAdmitted(tenant) {
      let counter = tenants.get(tenant);
      if (!counter) tenants.set(tenant, (counter = metrics.tenantRequests.labels({ tenant })));
      counter.inc();
    },
  };
}
