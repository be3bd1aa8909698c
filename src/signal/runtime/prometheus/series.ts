/**
 * Helpers to read parsed families by series: a stable key per label set, histograms with their
 * buckets sorted by `le`, summaries with their quantiles, and a lookup of samples by exact name.
 */
import { parseValue } from './line-scanner.ts';
import type { Exposition, Labels, MetricFamily, Sample } from './types.ts';

/** A stable key for a label set (order-independent), optionally ignoring some label names. */
export function seriesKey(labels: Labels, ...omit: string[]): string {
  const names = Object.keys(labels)
    .filter((n) => !omit.includes(n))
    .sort();
  return JSON.stringify(names.map((n) => [n, labels[n]]));
}

/** The labels without the named ones (e.g. without `le`). */
export function withoutLabels(labels: Labels, ...omit: string[]): Labels {
  const out: Labels = {};
  for (const name of Object.keys(labels)) {
    if (omit.includes(name)) continue;
    Object.defineProperty(out, name, {
      value: labels[name],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Every sample of the exposition by its exact sample name (`vllm:x_total` and `vllm:x_created` differ). */
export function samplesByName(exposition: Exposition): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const family of exposition.families) {
    for (const sample of family.samples) {
      const list = out.get(sample.name);
      if (list) list.push(sample);
      else out.set(sample.name, [sample]);
    }
  }
  return out;
}

/** A cumulative bucket: `count` observations were ≤ `le`. */
export interface HistogramBucket {
  le: number;
  count: number;
}

/** One histogram series (one label set, `le` removed). Absent fields were not exposed. */
export interface HistogramSeries {
  labels: Labels;
  /** Sorted by `le` ascending; the last is `+Inf` when the exporter wrote it. */
  buckets: HistogramBucket[];
  sum?: number;
  count?: number;
  /** `_created` value (Unix seconds) when exposed; a change means the series restarted. */
  created?: number;
}

/** A summary series: quantile → value, plus sum and count. */
export interface SummarySeries {
  labels: Labels;
  quantiles: Array<{ quantile: number; value: number }>;
  sum?: number;
  count?: number;
  created?: number;
}

/** The part of a sample name after the family name (`_bucket`, `_sum`, …), or undefined if not the family's. */
function suffixOf(family: MetricFamily, name: string): string | undefined {
  for (const base of [family.name, family.name.replaceAll(':', '_')]) {
    if (name.startsWith(base)) return name.slice(base.length);
  }
  return undefined;
}

function groupSeries<T extends { labels: Labels }>(
  family: MetricFamily,
  omit: string,
  make: (labels: Labels) => T,
  add: (series: T, suffix: string, sample: Sample) => void,
): T[] {
  const bySeries = new Map<string, T>();
  for (const sample of family.samples) {
    const suffix = suffixOf(family, sample.name);
    if (suffix === undefined) continue;
    const key = seriesKey(sample.labels, omit);
    let series = bySeries.get(key);
    if (!series) {
      series = make(withoutLabels(sample.labels, omit));
      bySeries.set(key, series);
    }
    add(series, suffix, sample);
  }
  return [...bySeries.values()];
}

/**
 * Reads a histogram (or gaugehistogram) family per label set. Buckets whose `le` is not a number
 * are skipped; a repeated `le` keeps its first value.
 */
export function readHistograms(family: MetricFamily): HistogramSeries[] {
  const gauge = family.type === 'gaugehistogram';
  const seenLe = new Map<HistogramSeries, Set<number>>();
  const list = groupSeries<HistogramSeries>(
    family,
    'le',
    (labels) => ({ labels, buckets: [] }),
    (series, suffix, sample) => {
      if (suffix === '_bucket') {
        const le = parseValue(sample.labels.le ?? '');
        if (le === undefined || Number.isNaN(le)) return;
        let seen = seenLe.get(series);
        if (!seen) seenLe.set(series, (seen = new Set()));
        if (seen.has(le)) return;
        seen.add(le);
        series.buckets.push({ le, count: sample.value });
      } else if (suffix === (gauge ? '_gsum' : '_sum')) series.sum = sample.value;
      else if (suffix === (gauge ? '_gcount' : '_count')) series.count = sample.value;
      else if (suffix === '_created') series.created = sample.value;
    },
  );
  for (const series of list) series.buckets.sort((a, b) => a.le - b.le);
  return list.filter((s) => s.buckets.length > 0 || s.count !== undefined);
}

/** Reads a summary family per label set; quantiles sorted ascending. */
export function readSummaries(family: MetricFamily): SummarySeries[] {
  const list = groupSeries<SummarySeries>(
    family,
    'quantile',
    (labels) => ({ labels, quantiles: [] }),
    (series, suffix, sample) => {
      if (suffix === '') {
        const quantile = parseValue(sample.labels.quantile ?? '');
        if (quantile !== undefined && !Number.isNaN(quantile))
          series.quantiles.push({ quantile, value: sample.value });
      } else if (suffix === '_sum') series.sum = sample.value;
      else if (suffix === '_count') series.count = sample.value;
      else if (suffix === '_created') series.created = sample.value;
    },
  );
  for (const series of list) series.quantiles.sort((a, b) => a.quantile - b.quantile);
  return list;
}
