/**
 * Rates and quantiles from two consecutive scrapes of cumulative series. Shared by adapters: any
 * runtime that exposes Prometheus counters and histograms reads its windows the same way.
 *
 * Reset rule: when a series went down, its `_created` time changed, or a series of the previous
 * scrape is gone, the runtime restarted (or a data-parallel engine did) inside the window. We then
 * skip that window — the delta is `undefined` and the field is left absent — rather than guess how
 * much was counted before the restart; the new values become the baseline for the next window.
 * A series that appears between two scrapes counts from zero (vLLM creates some label values lazily).
 */
import type { HistogramBucket } from './prometheus/index.ts';

/** One counter series: its value and, when exposed, its `_created` time. */
export interface CounterPoint {
  value: number;
  created?: number;
}

/** A counter as read from one scrape: the metric name used and every series (key = label set). */
export interface CounterReading {
  name: string;
  series: Map<string, CounterPoint>;
}

export interface HistogramPoint {
  /** Cumulative, sorted by `le`. */
  buckets: HistogramBucket[];
  created?: number;
}

export interface HistogramReading {
  name: string;
  series: Map<string, HistogramPoint>;
}

const restarted = (prevCreated: number | undefined, created: number | undefined) =>
  prevCreated !== undefined && created !== undefined && prevCreated !== created;

/** The increase of a counter (summed over its series) between two readings, or undefined (see reset rule). */
export function counterDelta(
  prev: CounterReading | undefined,
  cur: CounterReading | undefined,
): number | undefined {
  if (!prev || !cur || prev.name !== cur.name) return undefined;
  for (const key of prev.series.keys()) if (!cur.series.has(key)) return undefined;
  let delta = 0;
  for (const [key, point] of cur.series) {
    const before = prev.series.get(key);
    if (!before) {
      delta += point.value;
      continue;
    }
    if (point.value < before.value || restarted(before.created, point.created)) return undefined;
    delta += point.value - before.value;
  }
  return Number.isFinite(delta) ? delta : undefined;
}

function bucketDelta(prev: HistogramPoint | undefined, cur: HistogramPoint): Map<number, number> | undefined {
  if (prev && restarted(prev.created, cur.created)) return undefined;
  const before = new Map(prev?.buckets.map((b) => [b.le, b.count]));
  const out = new Map<number, number>();
  for (const { le, count } of cur.buckets) {
    const was = prev ? before.get(le) : 0;
    if (was === undefined || count < was || !Number.isFinite(count - was)) return undefined;
    out.set(le, count - was);
  }
  return out;
}

/**
 * Cumulative bucket counts observed between two readings, summed over series (data-parallel
 * engines) on the bucket bounds every series has; undefined on a reset or when nothing is comparable.
 */
export function histogramDelta(
  prev: HistogramReading | undefined,
  cur: HistogramReading | undefined,
): HistogramBucket[] | undefined {
  if (!prev || !cur || prev.name !== cur.name) return undefined;
  for (const key of prev.series.keys()) if (!cur.series.has(key)) return undefined;
  let merged: Map<number, number> | undefined;
  for (const [key, point] of cur.series) {
    const delta = bucketDelta(prev.series.get(key), point);
    if (!delta) return undefined;
    if (!merged) merged = delta;
    else
      for (const le of [...merged.keys()]) {
        const add = delta.get(le);
        if (add === undefined) merged.delete(le);
        else merged.set(le, (merged.get(le) ?? 0) + add);
      }
  }
  if (!merged || merged.size === 0) return undefined;
  return [...merged].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * The q-quantile of cumulative buckets, interpolating linearly inside the bucket that holds the
 * rank (as Prometheus' histogram_quantile does: the first bucket starts at 0, a rank in the +Inf
 * bucket answers the largest finite bound). Undefined when the buckets hold no observation.
 */
export function histogramQuantile(q: number, buckets: readonly HistogramBucket[]): number | undefined {
  const last = buckets[buckets.length - 1];
  if (!last || !(q >= 0 && q <= 1)) return undefined;
  // Counts should be cumulative; a running max keeps a malformed page from going backwards.
  let running = 0;
  const cumulative = buckets.map((b) => ({ le: b.le, count: (running = Math.max(running, b.count)) }));
  const total = running;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (let i = 0; i < cumulative.length; i++) {
    const { le, count } = cumulative[i]!;
    if (count >= rank && count > lowerCount) {
      if (le === Infinity) return i > 0 ? lowerLe : undefined;
      const from = i === 0 && le <= 0 ? le : lowerLe;
      return from + ((le - from) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerLe = le;
    lowerCount = count;
  }
  return undefined;
}
