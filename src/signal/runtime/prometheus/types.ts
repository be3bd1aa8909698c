/**
 * The shapes the Prometheus / OpenMetrics parser produces. Kept free of behaviour so adapters can
 * import them without pulling the parser in.
 */

/** Every family type either exposition format can declare in a `# TYPE` line. */
export const METRIC_TYPES = [
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
  'info',
  'stateset',
  'gaugehistogram',
  'unknown',
] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/** Which exposition format a body is in; it decides the unit of timestamps and whether `# EOF` is required. */
export type ExpositionFormat = 'text' | 'openmetrics';

/** Label name → value. Values are unescaped. Plain object; a label named `__proto__` is an own property. */
export type Labels = Record<string, string>;

/** An OpenMetrics exemplar (` # {trace_id="…"} 0.5 1700000000.1` after a sample). */
export interface Exemplar {
  labels: Labels;
  value: number;
  /** Unix milliseconds, when the exemplar carried a timestamp. */
  timestamp?: number;
}

/** One sample line. `name` is the name as written (e.g. `vllm:e2e_request_latency_seconds_bucket`). */
export interface Sample {
  name: string;
  labels: Labels;
  value: number;
  /** Unix milliseconds, when the line carried a timestamp (OpenMetrics seconds are converted). */
  timestamp?: number;
  exemplar?: Exemplar;
}

/**
 * A metric family: the `# TYPE`/`# HELP` name and every sample that belongs to it — for a
 * histogram its `_bucket`, `_sum`, `_count` and `_created` samples, for an OpenMetrics counter its
 * `_total` and `_created` samples.
 */
export interface MetricFamily {
  name: string;
  type: MetricType;
  /** Unescaped HELP text; absent when the exposition had no HELP line. */
  help?: string;
  /** OpenMetrics `# UNIT`; absent when not given. */
  unit?: string;
  samples: Sample[];
}

/** What `parsePrometheus` returns: families in order of first appearance, and a lookup by family name. */
export interface Exposition {
  families: MetricFamily[];
  /** The family declared (or first seen) under exactly this name. */
  family(name: string): MetricFamily | undefined;
}

export interface ParseOptions {
  /** Default `text`. `openmetrics` reads timestamps as seconds and requires the final `# EOF`. */
  format?: ExpositionFormat;
}
