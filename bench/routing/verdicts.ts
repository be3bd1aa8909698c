/**
 * From per-seed rows to claims: mean and 95% t-interval over seeds of each metric per
 * (trace, fleet, load, strategy); the default against each baseline by paired per-seed ratios
 * (TTFT p50/p99, ITL p99; lower is better) and paired differences (SLO attainment), a win or a
 * loss only when the interval excludes no difference; and the targets, met or missed.
 */
import {
  differenceVerdict,
  meanInterval,
  pairedDifference,
  pairedRatio,
  verdict,
  type Interval,
  type Verdict,
} from '../lib/stats.ts';
import type { RunSummary } from './metrics.ts';
import type { RunRow } from './virtual-unit.ts';

/** The metrics compared, with their direction. */
export const METRICS = [
  { key: 'ttftP50Ms', label: 'TTFT p50', lowerIsBetter: true },
  { key: 'ttftP99Ms', label: 'TTFT p99', lowerIsBetter: true },
  { key: 'itlP99Ms', label: 'ITL p99', lowerIsBetter: true },
  { key: 'goodputFrac', label: 'SLO attainment', lowerIsBetter: false },
] as const satisfies readonly { key: keyof RunSummary; label: string; lowerIsBetter: boolean }[];
export type MetricKey = (typeof METRICS)[number]['key'];

/** Peers the ≥ 1.3× target compares with (the faithful copies of the field's cache/load-aware routers). */
export const FAITHFUL_PEERS = ['llm-d', 'sglang-cache-aware', 'dynamo-kv', 'weighted-least-request'];

export interface Cell {
  trace: string;
  fleet: string;
  load: number;
  strategy: string;
  seeds: number[];
  scrapeIntervalMs: number;
  offeredRps: number;
  metrics: Record<MetricKey | 'goodputRps' | 'prefixHitRate', Interval>;
  /** Per-seed values, in `seeds` order. */
  values: Record<MetricKey, number[]>;
}

export interface Comparison {
  trace: string;
  fleet: string;
  load: number;
  baseline: string;
  /** Per metric: default ÷ baseline (paired ratio; for attainment, default − baseline) and verdict. */
  byMetric: Record<MetricKey, { estimate: Interval; verdict: Verdict }>;
  /** win: some win, no loss; loss: some loss, no win; mixed: both; tie: neither. */
  overall: Verdict | 'mixed';
}

const groupKey = (r: { trace: string; fleet: string; load: number }) => `${r.trace}|${r.fleet}|${r.load}`;

export function cells(rows: readonly RunRow[]): Cell[] {
  const by = new Map<string, RunRow[]>();
  for (const r of rows) {
    const k = `${groupKey(r)}|${r.strategy}`;
    by.set(k, [...(by.get(k) ?? []), r]);
  }
  return [...by.values()].map((rs) => {
    const sorted = [...rs].sort((a, b) => a.seed - b.seed);
    const pick = (k: keyof RunSummary) => sorted.map((r) => r.summary[k]);
    const values = Object.fromEntries(METRICS.map((m) => [m.key, pick(m.key)])) as Cell['values'];
    const metrics = Object.fromEntries(
      [...METRICS.map((m) => m.key), 'goodputRps' as const, 'prefixHitRate' as const].map((k) => [
        k,
        meanInterval(pick(k)),
      ]),
    ) as Cell['metrics'];
    const r0 = sorted[0]!;
    return {
      trace: r0.trace,
      fleet: r0.fleet,
      load: r0.load,
      strategy: r0.strategy,
      seeds: sorted.map((r) => r.seed),
      scrapeIntervalMs: r0.scrapeIntervalMs,
      offeredRps: r0.offeredRps,
      metrics,
      values,
    };
  });
}

export function compare(all: readonly Cell[], candidate = 'default'): Comparison[] {
  const out: Comparison[] = [];
  for (const c of all) {
    if (c.strategy !== candidate) continue;
    for (const b of all) {
      if (b.strategy === candidate || groupKey(b) !== groupKey(c)) continue;
      const byMetric = Object.fromEntries(
        METRICS.map((m) => {
          if (m.key === 'goodputFrac') {
            const d = pairedDifference(c.values[m.key], b.values[m.key]);
            // Attainment differences under half a point are noise in runs of a few hundred requests.
            return [m.key, { estimate: d, verdict: differenceVerdict(d, 0.005) }];
          }
          const r = pairedRatio(c.values[m.key], b.values[m.key]);
          return [m.key, { estimate: r, verdict: verdict(r, m.lowerIsBetter) }];
        }),
      ) as Comparison['byMetric'];
      const vs = Object.values(byMetric).map((x) => x.verdict);
      const win = vs.includes('win');
      const loss = vs.includes('loss');
      out.push({
        trace: c.trace,
        fleet: c.fleet,
        load: c.load,
        baseline: b.strategy,
        byMetric,
        overall: win && loss ? 'mixed' : win ? 'win' : loss ? 'loss' : 'tie',
      });
    }
  }
  return out;
}

export interface TargetResult {
  target: string;
  where: string;
  /** What was measured (a ratio with its interval, or a count). */
  measured: string;
  met: boolean;
  /** How far from the target (ratio ÷ target, or the losses). */
  by: string;
}

const iv = (x: Interval, d = 2) =>
  `${x.mean.toFixed(d)}× [${Number.isFinite(x.lo) ? x.lo.toFixed(d) : '–'}, ${Number.isFinite(x.hi) ? x.hi.toFixed(d) : '–'}]`;

/** Inverts a ratio interval (default ÷ baseline → baseline ÷ default: "× lower"). */
const invert = (x: Interval): Interval => ({ n: x.n, mean: 1 / x.mean, lo: 1 / x.hi, hi: 1 / x.lo });

export function targets(comparisons: readonly Comparison[]): TargetResult[] {
  const out: TargetResult[] = [];
  const p99 = (c: Comparison) => invert(c.byMetric.ttftP99Ms.estimate);
  for (const c of comparisons) {
    if (c.baseline !== 'least-outstanding' || !c.trace.startsWith('mooncake') || c.load !== 0.8) continue;
    const x = p99(c);
    out.push({
      target: 'TTFT p99 ≥ 3× lower than least-outstanding (Mooncake, 80%)',
      where: `${c.trace} · ${c.fleet}`,
      measured: iv(x),
      met: x.mean >= 3,
      by: `${((x.mean / 3) * 100).toFixed(0)}% of target (interval ${x.lo >= 3 ? 'wholly above' : x.hi < 3 ? 'wholly below' : 'straddles'} 3×)`,
    });
  }
  const groups = new Map<string, Comparison[]>();
  for (const c of comparisons) {
    if (c.fleet !== 'mixed' || !FAITHFUL_PEERS.includes(c.baseline)) continue;
    const k = groupKey(c);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const cs of groups.values()) {
    // The best peer is the one the default leads by the least.
    const best = cs.reduce((a, b) => (p99(b).mean < p99(a).mean ? b : a));
    const x = p99(best);
    out.push({
      target: 'TTFT p99 ≥ 1.3× lower than the best faithful peer (mixed fleet)',
      where: `${best.trace} · load ${Math.round(best.load * 100)}% · best peer ${best.baseline}`,
      measured: iv(x),
      met: x.mean >= 1.3,
      by: `${((x.mean / 1.3) * 100).toFixed(0)}% of target (interval ${x.lo >= 1.3 ? 'wholly above' : x.hi < 1.3 ? 'wholly below' : 'straddles'} 1.3×)`,
    });
  }
  const losses = comparisons.filter((c) => Object.values(c.byMetric).some((m) => m.verdict === 'loss'));
  out.push({
    target: 'never worse than any baseline beyond the interval (any trace, fleet, load, metric)',
    where: `${comparisons.length} comparisons × ${Object.keys(comparisons[0]?.byMetric ?? {}).length} metrics`,
    measured: `${losses.length} comparisons with a loss`,
    met: losses.length === 0,
    by:
      losses
        .map(
          (c) =>
            `${c.trace} ${c.fleet} ${Math.round(c.load * 100)}% vs ${c.baseline}: ${Object.entries(c.byMetric)
              .filter(([, m]) => m.verdict === 'loss')
              .map(([k]) => k)
              .join(', ')}`,
        )
        .join('; ') || 'no loss',
  });
  return out;
}
