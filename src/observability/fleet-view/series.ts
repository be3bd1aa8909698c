/**
 * The live charts' points, one a second: TTFT p50/p99 per model and requests/s by status from the
 * router's own Prometheus families (this thread's and every worker's, the numbers `/metrics`
 * serves), and queue depth and KV use per endpoint from the fleet snapshot. Quantiles come from
 * the histogram buckets' increase over the last `windowS` seconds, interpolated within a bucket as
 * Prometheus' `histogram_quantile` does; a window without requests gives null (a gap, not a zero).
 */
import type { FleetEndpoint, SeriesPoint } from './types.ts';

/** A metric family in prom-client's JSON form (only what is read here). */
export interface FamilyJson {
  name: string;
  values: ReadonlyArray<{
    labels: Partial<Record<string, string | number>>;
    value: number;
    metricName?: string;
  }>;
}

const REQUESTS = 'infermesh_router_requests_total';
const TTFT_BUCKET = 'infermesh_router_ttft_seconds_bucket';

/** Cumulative totals at one read. */
interface Totals {
  at: number;
  byStatus: Map<string, number>;
  /** model → le → cumulative count (summed over endpoints and threads). */
  buckets: Map<string, Map<number, number>>;
}

export interface SeriesSampler {
  /** Reads the families and returns the new point (kept in the history). */
  sample(endpoints: readonly FleetEndpoint[]): Promise<SeriesPoint>;
  /** The points of the last `historyS` seconds, oldest first. */
  history(): SeriesPoint[];
}

export function createSeriesSampler(options: {
  /** Every thread's router families (`infermesh_router_requests_total`, `…_ttft_seconds`). */
  read: () => Promise<ReadonlyArray<readonly FamilyJson[]>>;
  windowS?: number;
  historyS?: number;
  now?: () => number;
}): SeriesSampler {
  const windowS = options.windowS ?? 5;
  const historyS = options.historyS ?? 300;
  const now = options.now ?? Date.now;
  const reads: Totals[] = [];
  const points: SeriesPoint[] = [];
  return {
    async sample(endpoints) {
      const totals = collect(await options.read(), now());
      const prev = reads.at(-1);
      // The read `windowS` ago (or the oldest kept) is the quantiles' baseline.
      const base = reads.find((r) => totals.at - r.at <= windowS * 1000 + 500) ?? prev;
      reads.push(totals);
      while (reads.length > windowS + 2) reads.shift();
      const point: SeriesPoint = {
        t: Math.round(totals.at / 1000),
        ttft: quantilesByModel(totals, base),
        rps: rates(totals, prev),
        queue: {},
        kv: {},
      };
      for (const e of endpoints) {
        if (e.queueDepth !== undefined) point.queue[e.endpointId] = e.queueDepth;
        if (e.kvCacheUsage !== undefined) point.kv[e.endpointId] = e.kvCacheUsage;
      }
      points.push(point);
      while (points.length > historyS) points.shift();
      return point;
    },
    history: () => [...points],
  };
}

function collect(threads: ReadonlyArray<readonly FamilyJson[]>, at: number): Totals {
  const totals: Totals = { at, byStatus: new Map(), buckets: new Map() };
  for (const families of threads) {
    for (const family of families) {
      if (family.name === REQUESTS) {
        for (const v of family.values) {
          const status = String(v.labels.status);
          totals.byStatus.set(status, (totals.byStatus.get(status) ?? 0) + v.value);
        }
      } else if (family.name === 'infermesh_router_ttft_seconds') {
        for (const v of family.values) {
          if (v.metricName !== TTFT_BUCKET) continue;
          const model = String(v.labels.model);
          const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
          const byLe = totals.buckets.get(model) ?? new Map<number, number>();
          byLe.set(le, (byLe.get(le) ?? 0) + v.value);
          totals.buckets.set(model, byLe);
        }
      }
    }
  }
  return totals;
}

/** Requests per second by status since the previous read (a counter that went back counts 0). */
function rates(now: Totals, prev: Totals | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  const seconds = prev ? Math.max(0.001, (now.at - prev.at) / 1000) : 1;
  for (const [status, total] of now.byStatus) {
    const delta = prev ? total - (prev.byStatus.get(status) ?? 0) : 0;
    out[status] = Math.max(0, delta) / seconds;
  }
  return out;
}

function quantilesByModel(
  now: Totals,
  base: Totals | undefined,
): Record<string, { p50: number | null; p99: number | null }> {
  const out: Record<string, { p50: number | null; p99: number | null }> = {};
  for (const [model, byLe] of now.buckets) {
    const before = base?.buckets.get(model);
    const les = [...byLe.keys()].sort((a, b) => a - b);
    const counts = les.map((le) => Math.max(0, (byLe.get(le) ?? 0) - (before?.get(le) ?? 0)));
    out[model] = { p50: bucketQuantile(0.5, les, counts), p99: bucketQuantile(0.99, les, counts) };
  }
  return out;
}

/**
 * The q-quantile (ms) of cumulative bucket counts by upper bound `les` (seconds, ascending, the
 * last +Inf), interpolated linearly within its bucket, to 0.01 ms; null for no observations. A quantile in
 * the +Inf bucket reads as the highest finite bound, as Prometheus does.
 */
export function bucketQuantile(
  q: number,
  les: readonly number[],
  cumulative: readonly number[],
): number | null {
  const total = cumulative.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    const count = cumulative[i]!;
    if (count < rank) continue;
    const upper = les[i]!;
    const lower = i === 0 ? 0 : les[i - 1]!;
    if (!Number.isFinite(upper)) return lower * 1000;
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    const inBucket = count - below;
    const frac = inBucket > 0 ? (rank - below) / inBucket : 1;
    return Math.round((lower + (upper - lower) * frac) * 100_000) / 100; // ms, to 0.01
  }
  return null;
}
