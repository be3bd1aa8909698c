/**
 * The markdown report of the virtual routing benchmark: run details, capacities under the SLO,
 * the summary of verdicts (default against each baseline), the targets, then per (trace, fleet,
 * load) the mean and 95% interval over seeds of every strategy.
 */
import type { Interval } from '../lib/stats.ts';
import type { UnitResult } from './virtual-unit.ts';
import type { Cell, Comparison, TargetResult } from './verdicts.ts';

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
/** `mean [lo, hi]`. */
const ci = (x: Interval, d = 0, scale = 1) =>
  `${f(x.mean * scale, d)} [${f(x.lo * scale, d)}, ${f(x.hi * scale, d)}]`;
const pct = (load: number) => `${Math.round(load * 100)}%`;
const mark = { win: 'win', loss: '**LOSS**', tie: 'tie', mixed: 'mixed' } as const;

export function renderMarkdown(
  meta: Record<string, unknown>,
  units: readonly UnitResult[],
  all: readonly Cell[],
  comparisons: readonly Comparison[],
  checks: readonly TargetResult[],
): string {
  const out: string[] = ['# Routing benchmark (virtual mode)', ''];
  for (const [k, v] of Object.entries(meta))
    out.push(`- **${k}**: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  out.push('', '## Capacity under the SLO', '');
  out.push(
    '| trace | fleet | requests per run | capacity req/s | missed at | mean-throughput estimate | probes (req/s: pass?) |',
  );
  out.push('|---|---|---|---|---|---|---|');
  for (const u of units) {
    const c = u.capacity;
    out.push(
      `| ${u.trace} | ${u.fleet} | ${u.windows[0]?.requests ?? '–'} | ${f(c.rps, 2)} | ${f(c.failedAtRps, 2)} | ${f(c.estimateRps, 2)} | ${c.probes.map((p) => `${f(p.rps, 1)}:${p.windowLimited ? 'window' : p.pass ? '✓' : '✗'}`).join(' ')} |`,
    );
  }
  out.push('', '## Targets', '');
  out.push('| target | where | measured (mean [95% CI]) | met | by |', '|---|---|---|---|---|');
  for (const t of checks)
    out.push(`| ${t.target} | ${t.where} | ${t.measured} | ${t.met ? 'met' : '**missed**'} | ${t.by} |`);
  out.push('', '## Summary: default against each baseline', '');
  out.push(
    'Ratios are default ÷ baseline (geometric mean over seeds of the paired per-seed ratio, 95% t-interval); below 1 is better for the default. SLO attainment is default − baseline in points. A verdict is a win or a loss only when the interval excludes no difference, else tie; overall: win = some win and no loss.',
    '',
  );
  out.push(
    '| trace | fleet | load | baseline | TTFT p50 ratio | TTFT p99 ratio | ITL p99 ratio | SLO attainment Δ pts | verdicts p50/p99/ITL/SLO | overall |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const c of comparisons) {
    const m = c.byMetric;
    out.push(
      `| ${c.trace} | ${c.fleet} | ${pct(c.load)} | ${c.baseline} | ${ci(m.ttftP50Ms.estimate, 2)} | ${ci(m.ttftP99Ms.estimate, 2)} | ${ci(m.itlP99Ms.estimate, 2)} | ${ci(m.goodputFrac.estimate, 1, 100)} | ${[m.ttftP50Ms, m.ttftP99Ms, m.itlP99Ms, m.goodputFrac].map((x) => x.verdict).join('/')} | ${mark[c.overall]} |`,
    );
  }
  out.push('', '## Per strategy (mean [95% CI] over seeds)', '');
  const groups = new Map<string, Cell[]>();
  for (const c of all) {
    const k = `${c.trace} · ${c.fleet} fleet · load ${pct(c.load)}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const [k, group] of groups) {
    out.push(`### ${k} (offered ${f(group[0]!.offeredRps, 2)} req/s)`, '');
    out.push(
      '| strategy | scrape ms | TTFT p50 ms | TTFT p99 ms | ITL p99 ms | SLO attainment % | goodput req/s | prefix hit % |',
    );
    out.push('|---|---|---|---|---|---|---|---|');
    for (const c of group) {
      const m = c.metrics;
      out.push(
        `| ${c.strategy} | ${c.scrapeIntervalMs} | ${ci(m.ttftP50Ms)} | ${ci(m.ttftP99Ms)} | ${ci(m.itlP99Ms, 1)} | ${ci(m.goodputFrac, 1, 100)} | ${ci(m.goodputRps, 2)} | ${f(m.prefixHitRate.mean * 100, 1)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}
