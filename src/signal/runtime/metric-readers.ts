/**
 * Reads Prometheus families per model, whatever label a runtime names its model with (`model_name`,
 * `model`, `name`, `ModelName`, or none at all for TGI). Gauges are folded over the other labels
 * (engines, versions, ranks); counters and histograms keep their series so the window rules
 * (`window.ts`) can spot a restart.
 */
import {
  parseValue,
  samplesByName,
  seriesKey,
  type Exposition,
  type Labels,
  type Sample,
} from './prometheus/index.ts';
import type { CounterReading, HistogramPoint, HistogramReading } from './window.ts';

/** Which model a sample belongs to, or undefined to skip it. */
export type ModelOf = (labels: Labels) => string | undefined;

/** Samples by exact name. */
export type Lookup = (name: string) => Sample[];

/** A lookup over an exposition; `alias` maps a name to its other spelling (OpenMetrics `vllm_x`). */
export function lookupOf(exposition: Exposition, alias?: (name: string) => string): Lookup {
  const byName = samplesByName(exposition);
  return (name) => byName.get(name) ?? (alias ? byName.get(alias(name)) : undefined) ?? [];
}

/** A model label by name. */
export const byLabel =
  (label: string): ModelOf =>
  (labels) =>
    labels[label];

/** How a gauge is folded over the series of one model. */
export type Fold = 'sum' | 'mean';

/** One number per model from a gauge (non-finite samples skipped). */
export function gauge(get: Lookup, name: string, modelOf: ModelOf, fold: Fold = 'sum'): Map<string, number> {
  const acc = new Map<string, { sum: number; n: number }>();
  for (const s of get(name)) {
    const model = modelOf(s.labels);
    if (model === undefined || !Number.isFinite(s.value)) continue;
    const a = acc.get(model) ?? { sum: 0, n: 0 };
    a.sum += s.value;
    a.n++;
    acc.set(model, a);
  }
  const out = new Map<string, number>();
  for (const [model, a] of acc) out.set(model, fold === 'sum' ? a.sum : a.sum / a.n);
  return out;
}

/** `x_total` → `x_created` (prometheus_client's creation-time gauge of a counter). */
export const createdOf = (counterName: string) => counterName.replace(/_total$/, '_created');

/**
 * A counter per model, every series kept. `createdName` is the `_created` gauge prometheus_client
 * writes beside a counter (absent for Rust, C++ and Java exporters).
 */
export function counter(
  get: Lookup,
  name: string,
  modelOf: ModelOf,
  createdName?: string,
): Map<string, CounterReading> {
  const created = new Map(
    createdName ? get(createdName).map((s) => [seriesKey(s.labels), s.value] as const) : [],
  );
  const out = new Map<string, CounterReading>();
  for (const s of get(name)) {
    const model = modelOf(s.labels);
    if (model === undefined) continue;
    let reading = out.get(model);
    if (!reading) out.set(model, (reading = { name, series: new Map() }));
    const key = seriesKey(s.labels);
    const at = created.get(key);
    reading.series.set(key, at === undefined ? { value: s.value } : { value: s.value, created: at });
  }
  return out;
}

/** A histogram per model from its `_bucket` samples (and `_created` when exposed). */
export function histogram(get: Lookup, base: string, modelOf: ModelOf): Map<string, HistogramReading> {
  const created = new Map(get(`${base}_created`).map((s) => [seriesKey(s.labels), s.value] as const));
  const out = new Map<string, HistogramReading>();
  for (const s of get(`${base}_bucket`)) {
    const model = modelOf(s.labels);
    const le = parseValue(s.labels.le ?? '');
    if (model === undefined || le === undefined || Number.isNaN(le)) continue;
    let reading = out.get(model);
    if (!reading) out.set(model, (reading = { name: base, series: new Map() }));
    const key = seriesKey(s.labels, 'le');
    let point: HistogramPoint | undefined = reading.series.get(key);
    if (!point) {
      point = { buckets: [] };
      const at = created.get(key);
      if (at !== undefined) point.created = at;
      reading.series.set(key, point);
    }
    if (!point.buckets.some((b) => b.le === le)) point.buckets.push({ le, count: s.value });
  }
  for (const reading of out.values())
    for (const p of reading.series.values()) p.buckets.sort((a, b) => a.le - b.le);
  return out;
}

/** Per model, the first of `names` the model has samples under (a newer name before its old one). */
export function firstOf<T>(names: readonly string[], read: (name: string) => Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const name of names)
    for (const [model, value] of read(name)) if (!out.has(model)) out.set(model, value);
  return out;
}

/**
 * One readings object per model from per-model maps, one map per field (models in the order they
 * first appear). `init` starts a model's object.
 */
export function joinByModel<R extends object>(
  fields: { [K in keyof R]?: Map<string, R[K]> },
  init: (model: string) => R = () => ({}) as R,
): Map<string, R> {
  const out = new Map<string, R>();
  for (const key of Object.keys(fields) as Array<keyof R>)
    for (const [model, value] of fields[key] ?? []) {
      let readings = out.get(model);
      if (!readings) out.set(model, (readings = init(model)));
      readings[key] = value;
    }
  return out;
}
