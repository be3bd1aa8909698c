/**
 * Counters and histograms for per-request paths. prom-client validates and hashes the label set
 * on every update, even through a `labels()` child; here `labels()` resolves a series once and
 * returns a handle whose update is a field add, so a request costs no label work. The families
 * register into prom-client registries like any metric (they answer `get()` in its JSON form),
 * so the exposition, `promtool` and the worker aggregation see no difference.
 */
import type { Metric, Registry } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string>>;

/** One exported value, as prom-client's registries and aggregator read them. */
interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/** A family in prom-client's JSON form (`registry.getMetricsAsJSON()`). */
interface ExportedFamily {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: ExportedValue[];
}

interface FamilyConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

/** Shared by both families: the series map keyed by label values, and registration. */
abstract class Family<L extends string, S extends { labels: Labels<L> }> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';
  private readonly labelNames: readonly L[];
  protected readonly all = new Map<string, S>();

  constructor(config: FamilyConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  protected resolve(labels: Labels<L>): S {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let series = this.all.get(key);
    if (!series) {
      const own = {} as Record<L, string>;
      for (const n of this.labelNames) own[n] = labels[n];
      this.all.set(key, (series = this.create(own)));
    }
    return series;
  }

  protected abstract create(labels: Labels<L>): S;
  protected abstract values(): ExportedValue[];

  get(): Promise<ExportedFamily> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.values(),
    });
  }

  /** Clears the series (handles held elsewhere stop being exported). */
  reset(): void {
    this.all.clear();
  }
}

interface CounterSeries<L extends string> {
  labels: Labels<L>;
  value: number;
}

export interface CounterHandle {
  inc(by?: number): void;
}

export class HandleCounter<L extends string> extends Family<L, CounterSeries<L>> {
  readonly type = 'counter' as const;

  /** The series of `labels`, resolved once; keep it. */
  labels(labels: Labels<L>): CounterHandle {
    const series = this.resolve(labels);
    return {
      inc: (by = 1) => {
        series.value += by;
      },
    };
  }

  /** One update with the label lookup (for paths that are not per request). */
  inc(labels: Labels<L>, by = 1): void {
    this.resolve(labels).value += by;
  }

  protected create(labels: Labels<L>): CounterSeries<L> {
    return { labels, value: 0 };
  }

  protected values(): ExportedValue[] {
    return [...this.all.values()].map((s) => ({
      labels: { ...s.labels },
      value: s.value,
      metricName: this.name,
    }));
  }
}

interface HistogramSeries<L extends string> {
  labels: Labels<L>;
  /** Observations per bucket (not cumulative); the last is +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

export interface HistogramHandle {
  observe(value: number): void;
}

export class HandleHistogram<L extends string> extends Family<L, HistogramSeries<L>> {
  readonly type = 'histogram' as const;
  private readonly upper: readonly number[];

  constructor(config: FamilyConfig<L> & { buckets: readonly number[] }) {
    super(config);
    this.upper = [...config.buckets].sort((a, b) => a - b);
  }

  /** The series of `labels`, resolved once; keep it. */
  labels(labels: Labels<L>): HistogramHandle {
    const series = this.resolve(labels);
    const upper = this.upper;
    return {
      observe: (value) => {
        if (!Number.isFinite(value)) return;
        let i = 0;
        while (i < upper.length && value > upper[i]!) i++;
        series.buckets[i]!++;
        series.sum += value;
        series.count++;
      },
    };
  }

  /** One observation with the label lookup (for paths that are not per request). */
  observe(labels: Labels<L>, value: number): void {
    this.labels(labels).observe(value);
  }

  protected create(labels: Labels<L>): HistogramSeries<L> {
    return { labels, buckets: new Float64Array(this.upper.length + 1), sum: 0, count: 0 };
  }

  protected values(): ExportedValue[] {
    const values: ExportedValue[] = [];
    for (const s of this.all.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.upper.length; i++) {
        cumulative += s.buckets[i]!;
        const le = i < this.upper.length ? this.upper[i]! : '+Inf';
        values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return values;
  }
}
