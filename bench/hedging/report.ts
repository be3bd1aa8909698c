/**
 * The hedging benchmark's summary and report: means with 95% t-intervals over seeds, the paired
 * per-seed ratio of TTFT p99 without ÷ with hedging (geometric, `pairedRatio`), the targets, and
 * who answered the slowest requests (the straggler, or not).
 */
import { machineLine, type Machine } from '../lib/machine.ts';
import { meanInterval, pairedRatio, type Interval } from '../lib/stats.ts';
import type { RunResult, Scenario, Settings } from './run.ts';

const SCENARIOS: readonly Scenario[] = ['straggler', 'no-straggler'];
/** The endpoint `fleet.ts` slows (its first simulator), as the router names it. */
const STRAGGLER_ENDPOINT = 'bench/sim-0';

interface Mode {
  p50: Interval;
  p99: Interval;
  extraPercent: Interval;
  wonPercent: Interval;
  /** Share of the slowest 2% of requests the straggler answered. */
  tailOnStragglerPercent: Interval;
  failed: number;
}
export type Summary = Record<Scenario, { off: Mode; on: Mode; p99OffOverOn: Interval }>;

function mode(rs: readonly RunResult[]): Mode {
  return {
    p50: meanInterval(rs.map((r) => r.ttftP50Ms)),
    p99: meanInterval(rs.map((r) => r.ttftP99Ms)),
    extraPercent: meanInterval(rs.map((r) => r.extraPercent)),
    wonPercent: meanInterval(rs.map((r) => (r.hedges > 0 ? (100 * r.hedgesWon) / r.hedges : 0))),
    tailOnStragglerPercent: meanInterval(
      rs.map(
        (r) => (100 * r.tail.filter((t) => t.endpoint === STRAGGLER_ENDPOINT).length) / (r.tail.length || 1),
      ),
    ),
    failed: rs.reduce((a, r) => a + r.failed, 0),
  };
}

export function summarise(results: readonly RunResult[], seeds: readonly number[]): Summary {
  const out = {} as Summary;
  for (const scenario of SCENARIOS) {
    const runs = (hedging: boolean) =>
      seeds.map((seed) =>
        results.find((r) => r.scenario === scenario && r.seed === seed && r.hedging === hedging)!,
      );
    out[scenario] = {
      off: mode(runs(false)),
      on: mode(runs(true)),
      p99OffOverOn: pairedRatio(
        runs(false).map((r) => r.ttftP99Ms),
        runs(true).map((r) => r.ttftP99Ms),
      ),
    };
  }
  return out;
}

const fmt = (x: Interval, digits = 0) =>
  Number.isFinite(x.lo)
    ? `${x.mean.toFixed(digits)} [${x.lo.toFixed(digits)}, ${x.hi.toFixed(digits)}]`
    : x.mean.toFixed(digits);

export function renderReport(o: {
  quick: boolean;
  command: string;
  date: string;
  machine: Machine;
  settings: Settings;
  seeds: readonly number[];
  jobs: number;
  summary: Summary;
  results: readonly RunResult[];
}): string {
  const s = o.settings;
  const lines = [
    `# Hedging benchmark${o.quick ? ' (quick)' : ''}`,
    '',
    `- Command: \`${o.command}\``,
    `- Date: ${o.date}`,
    `- Machine: ${machineLine(o.machine)}; ${o.jobs} group(s) side by side`,
    `- Fleet: ${s.endpoints} simulated H100 endpoints (mesh-sim engine, time scale 1) in one child process; one meshd (router + gpu roles, default scoring profile, \`router.workers: 1\`) and the load in another.`,
    `- Load: Poisson, ${s.ratePerS} req/s for ${s.durationMs / 1000} s per run (the first ${s.warmupMs / 1000} s not measured), prompt and output lengths drawn from the Azure LLM 2023 conversation trace (prompt ≤ ${s.maxPrompt}, output ≤ ${s.maxOutput} tokens; fresh token ids, no prefix reuse), streamed, \`ignore_eos\`.`,
    `- Straggler: endpoint sim-0's clock runs ${s.straggler.factor}× slow for ${s.straggler.slowMs / 1000} s of every ${s.straggler.periodMs / 1000} s (\`createStragglerClock\`, src/sim/faults.ts).`,
    `- Hedging on: \`${JSON.stringify(s.hedging)}\` (other keys at their defaults, src/core/config.ts).`,
    `- Seeds: ${o.seeds.join(', ')}; each (scenario, seed) runs hedging off and on over the same arrivals. Mean [95% t-interval] over seeds.`,
    '',
    '| scenario | hedging | TTFT p50 ms | TTFT p99 ms | extra requests % | hedges won % | slowest 2% on the straggler % | failed |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const scenario of SCENARIOS) {
    for (const key of ['off', 'on'] as const) {
      const m = o.summary[scenario][key];
      lines.push(
        `| ${scenario} | ${key} | ${fmt(m.p50)} | ${fmt(m.p99)} | ${fmt(m.extraPercent, 2)} | ${key === 'on' ? fmt(m.wonPercent) : '–'} | ${fmt(m.tailOnStragglerPercent)} | ${m.failed} |`,
      );
    }
  }
  lines.push('');
  for (const scenario of SCENARIOS) {
    lines.push(
      `- ${scenario}: TTFT p99 without ÷ with hedging, paired per seed (geometric mean): ${fmt(o.summary[scenario].p99OffOverOn, 2)}×`,
    );
  }
  const straggler = o.summary.straggler;
  const met = straggler.p99OffOverOn.lo >= 3 && straggler.on.extraPercent.hi <= 5;
  const noLoss = !(o.summary['no-straggler'].p99OffOverOn.hi < 1);
  lines.push(
    '',
    `- Target ≥ 3× lower TTFT p99 with a straggler for ≤ 5% extra requests (the interval's low end ≥ 3): **${met ? 'met' : 'missed'}**.`,
    `- Target no measurable loss without a straggler: **${noLoss ? 'met' : 'missed'}** (the paired ratio's interval ${noLoss ? 'reaches' : 'stays below'} 1).`,
    '',
    '## Runs',
    '',
    'Each run with its slowest 2% of measured requests (arrival ms, TTFT ms, prompt tokens, endpoint that answered).',
    '',
    '```',
    ...o.results.map((r) => JSON.stringify(r)),
    '```',
    '',
  );
  return lines.join('\n');
}
