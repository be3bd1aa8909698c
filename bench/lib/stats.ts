/**
 * Small statistics for benchmark verdicts over a few seeds: Student-t intervals of a mean, paired
 * per-seed ratios on a log scale, and a three-way verdict (win / loss / tie) that calls a
 * difference only when the interval excludes "no difference".
 */

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (95% intervals). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t quantile for a two-sided 95% interval with `df` degrees of freedom (normal 1.96 past 30). */
export function tQuantile95(df: number): number {
  if (!(df >= 1)) return NaN;
  return T975[Math.floor(df) - 1] ?? 1.96;
}

/** Mean and 95% t-interval of independent samples (one per seed). */
export interface Interval {
  n: number;
  mean: number;
  lo: number;
  hi: number;
}

export function meanInterval(xs: readonly number[]): Interval {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { n, mean: NaN, lo: NaN, hi: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, lo: NaN, hi: NaN };
  const sd = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = tQuantile95(n - 1) * (sd / Math.sqrt(n));
  return { n, mean, lo: mean - half, hi: mean + half };
}

/**
 * Paired ratio `a[i] / b[i]` over seeds: the t-interval of the per-seed log ratios, exponentiated
 * (a geometric-mean ratio with its 95% interval). Pairs with a non-positive or missing value are dropped.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): Interval {
  const logs: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y)) logs.push(Math.log(x / y));
  }
  const m = meanInterval(logs);
  return { n: m.n, mean: Math.exp(m.mean), lo: Math.exp(m.lo), hi: Math.exp(m.hi) };
}

export type Verdict = 'win' | 'loss' | 'tie';

/**
 * Verdict for the paired ratio candidate ÷ baseline of a metric: with `lowerIsBetter`, a win when
 * the whole interval is below 1 and a loss when it is wholly above (mirrored otherwise). A ratio
 * within `tolerance` of 1 at both ends, or an interval that cannot be computed, is a tie.
 */
export function verdict(ratio: Interval, lowerIsBetter: boolean, tolerance = 0): Verdict {
  if (!Number.isFinite(ratio.lo) || !Number.isFinite(ratio.hi)) return 'tie';
  const below = ratio.hi < 1 - tolerance;
  const above = ratio.lo > 1 + tolerance;
  if (below) return lowerIsBetter ? 'win' : 'loss';
  if (above) return lowerIsBetter ? 'loss' : 'win';
  return 'tie';
}

/** Verdict on a difference (candidate − baseline) of paired values, e.g. SLO attainment. */
export function pairedDifference(a: readonly number[], b: readonly number[]): Interval {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d.push(a[i]! - b[i]!);
  }
  return meanInterval(d);
}

/** Verdict for a paired difference where higher is better (a win when the interval is above 0). */
export function differenceVerdict(diff: Interval, epsilon = 0): Verdict {
  if (!Number.isFinite(diff.lo) || !Number.isFinite(diff.hi)) {
    // All seeds equal (e.g. every seed at 100%): no difference.
    return 'tie';
  }
  if (diff.lo > epsilon) return 'win';
  if (diff.hi < -epsilon) return 'loss';
  return 'tie';
}
