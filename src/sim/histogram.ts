/**
 * A fixed-bucket histogram (what prometheus_client keeps per series), plus vLLM V1's bucket lists
 * for the latency histograms the simulator exports (vllm/v1/metrics: see runtime-formats.md 1.2).
 */

export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
  80.0, 160.0, 640.0, 2560.0,
] as const;
export const ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
] as const;
export const E2E_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
  960.0, 1920.0, 7680.0,
] as const;

export interface Histogram {
  readonly buckets: readonly number[];
  /** Per-bucket (non-cumulative) counts; index `buckets.length` is the +Inf overflow. */
  readonly counts: number[];
  sum: number;
  count: number;
  observe(value: number): void;
}

export function createHistogram(buckets: readonly number[]): Histogram {
  const h: Histogram = {
    buckets,
    counts: new Array<number>(buckets.length + 1).fill(0),
    sum: 0,
    count: 0,
    observe(value) {
      let i = 0;
      while (i < buckets.length && value > (buckets[i] ?? Infinity)) i++;
      h.counts[i] = (h.counts[i] ?? 0) + 1;
      h.sum += value;
      h.count++;
    },
  };
  return h;
}
