/**
 * The markdown report of `--mode real`: one table per (trace, load), the repeatability check
 * (identical runs, within 10%), then what only a run with real processes has: the time scale,
 * failures, the router's H100 share and how late the client sent.
 */
import type { RunSummary } from './metrics.ts';
import type { RunRow } from './virtual-unit.ts';

/** One (trace, load, strategy, repeat) run of the real mode. */
export interface RealRunRow extends Omit<RunRow, 'fleet' | 'seed'> {
  /** 0 for the first run of a (trace, load, strategy), 1 for its identical repeat (`--repeat 2`). */
  repeat: number;
  /** Router setup with `--routers N`: `1 router`, `N routers, shared`, `N routers, not shared`. */
  setup?: string;
  /** Simulator speed-up; latencies in `summary` are already × this. */
  timeScale: number;
  timeouts: number;
  errors: number;
  firstErrors: string[];
  h100Share: number;
  /** Wall ms. */
  sendLagP99Ms: number;
  peakInFlight: number;
  /** Mean TTFT of answered requests at the client, simulated ms. */
  clientTtftMeanMs: number;
  /** Mean TTFT the engines measured themselves (from their arrival), simulated ms. */
  engineTtftMeanMs: number;
  /** The machine's 1-minute load average when the run ended (the machine is shared). */
  loadAvg1: number;
}

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** Largest relative difference between two runs over the repeatability metrics. */
export function repeatDiff(a: RunSummary, b: RunSummary): { metric: string; diff: number } {
  const metrics = ['ttftP50Ms', 'ttftP99Ms', 'itlP99Ms', 'goodputFrac'] as const;
  let worst = { metric: '', diff: 0 };
  for (const m of metrics) {
    const d = Math.abs(a[m] - b[m]) / Math.max(Math.abs(a[m]), Math.abs(b[m]), 1e-9);
    if (d > worst.diff) worst = { metric: m, diff: d };
  }
  return worst;
}

function runTables(rows: readonly RealRunRow[]): string[] {
  const out: string[] = [];
  const groups = new Map<string, RealRunRow[]>();
  for (const r of rows) {
    const key = `${r.trace} · ${r.endpoints} endpoints · load ${Math.round(r.load * 100)}%`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, group] of groups) {
    out.push(`## ${key} (offered ${f(group[0]!.offeredRps, 2)} req/s)`, '');
    out.push(
      '| strategy | run | scrape ms | requests | TTFT p50 ms | p90 | p99 | e2e p99 ms | ITL p99 ms | SLO % | goodput req/s | prefix hit % | preempt |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of group) {
      const s = r.summary;
      out.push(
        `| ${r.strategy}${r.setup ? ` (${r.setup})` : ''} | ${r.repeat + 1} | ${r.scrapeIntervalMs} | ${s.requests} | ${f(s.ttftP50Ms)} | ${f(s.ttftP90Ms)} | ${f(s.ttftP99Ms)} | ${f(s.e2eP99Ms)} | ${f(s.itlP99Ms, 1)} | ${f(s.goodputFrac * 100, 1)} | ${f(s.goodputRps, 2)} | ${f(s.prefixHitRate * 100, 1)} | ${r.preemptions} |`,
      );
    }
    out.push('');
  }
  const pairs = rows.filter((r) => r.repeat === 1);
  if (pairs.length > 0) {
    out.push('## Repeatability (identical runs: TTFT p50/p99, ITL p99, SLO attainment within 10%)', '');
    out.push(
      '| trace | load | strategy | largest difference | metric | within 10% |',
      '|---|---|---|---|---|---|',
    );
    for (const b of pairs) {
      const a = rows.find(
        (r) =>
          r.repeat === 0 &&
          r.trace === b.trace &&
          r.load === b.load &&
          r.strategy === b.strategy &&
          r.setup === b.setup,
      );
      if (!a) continue;
      const d = repeatDiff(a.summary, b.summary);
      out.push(
        `| ${b.trace} | ${Math.round(b.load * 100)}% | ${b.strategy}${b.setup ? ` (${b.setup})` : ''} | ${f(d.diff * 100, 1)}% | ${d.metric} | ${d.diff <= 0.1 ? 'yes' : '**no**'} |`,
      );
    }
    out.push('');
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * `--routers N`: TTFT per router setup and each N-router setup's ratio to one router (the issue's
 * target: TTFT p99 within 10% of one router with the same fleet). Repeats are summarised by their median.
 */
export function routersTable(rows: readonly RealRunRow[]): string[] {
  const withSetup = rows.filter((r) => r.setup);
  if (withSetup.length === 0) return [];
  const out = [
    '## Active-active routers: N routers vs one (TTFT p99 target: within 10% of one router)',
    '',
    '| trace | load | strategy | setup | runs | TTFT p50 ms | TTFT p99 ms | p50 ÷ 1 router | p99 ÷ 1 router | within 10% |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const groups = new Map<string, RealRunRow[]>();
  for (const r of withSetup) {
    const key = `${r.trace}\u0000${r.load}\u0000${r.strategy}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const group of groups.values()) {
    const setups = [...new Set(group.map((r) => r.setup!))];
    const stat = (setup: string) => {
      const runs = group.filter((r) => r.setup === setup);
      return {
        runs: runs.length,
        p50: median(runs.map((r) => r.summary.ttftP50Ms)),
        p99: median(runs.map((r) => r.summary.ttftP99Ms)),
      };
    };
    const one = stat(setups.find((s) => s.startsWith('1 ')) ?? setups[0]!);
    for (const setup of setups) {
      const s = stat(setup);
      const first = group[0]!;
      const isOne = s.p99 === one.p99 && setup.startsWith('1 ');
      out.push(
        `| ${first.trace} | ${Math.round(first.load * 100)}% | ${first.strategy} | ${setup} | ${s.runs} | ${f(s.p50)} | ${f(s.p99)} | ${isOne ? '1' : f(s.p50 / one.p50, 2)} | ${isOne ? '1' : f(s.p99 / one.p99, 2)} | ${isOne ? '' : s.p99 <= one.p99 * 1.1 ? 'yes' : '**no**'} |`,
      );
    }
  }
  out.push('');
  return out;
}

export function renderRealMarkdown(meta: Record<string, unknown>, rows: readonly RealRunRow[]): string {
  const out = [
    '# Routing benchmark, real processes',
    '',
    ...Object.entries(meta).map(([k, v]) => `- **${k}**: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
    '',
    ...routersTable(rows),
    ...runTables(rows),
    '## Run details',
    '',
    'Latencies above are simulated ms (wall × time scale), measured at the client. "decision p99 µs"',
    'is not visible from outside meshd (see `npm run bench:scoring`). Timeouts and errors count',
    'against goodput %. Client − engine mean TTFT is what the router hop, the client and this',
    "machine's scheduling added (× time scale): the measurement's own error bar.",
    '',
    '| trace | load | strategy | time scale | client TTFT mean ms | engine TTFT mean ms | timeouts | errors | to H100 % | send lag p99 (wall ms) | peak in flight | load avg | wall s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.trace} | ${Math.round(r.load * 100)}% | ${r.strategy}${r.setup ? ` (${r.setup})` : ''} | ${r.timeScale} | ${f(r.clientTtftMeanMs)} | ${f(r.engineTtftMeanMs)} | ${r.timeouts} | ${r.errors} | ${f(r.h100Share * 100, 1)} | ${f(r.sendLagP99Ms, 1)} | ${r.peakInFlight} | ${f(r.loadAvg1, 1)} | ${f(r.wallMs / 1000, 1)} |`,
    );
  }
  const errs = rows.filter((r) => r.firstErrors.length > 0);
  if (errs.length > 0) {
    out.push('', 'First errors seen:', '');
    for (const r of errs)
      out.push(`- ${r.trace} ${Math.round(r.load * 100)}% ${r.strategy}: ${r.firstErrors.join(' | ')}`);
  }
  return out.join('\n') + '\n';
}
