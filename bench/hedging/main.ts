/**
 * Hedging benchmark: TTFT p50/p99 with and without `router.hedging`, with one straggler in the
 * fleet (a simulator 10× slow for periods, `src/sim/faults.ts`) and without one, and the extra
 * requests hedging cost. Each (scenario, seed) group (`run.ts`) runs hedging off and on over the
 * same Poisson arrivals, whose prompt and output lengths are drawn from the Azure LLM 2023
 * conversation trace (`../shared/traces`; fresh token ids, so no prefix reuse). Groups run in
 * child processes, `--jobs` at a time (default 1: on a small machine groups side by side would
 * slow each other's clocks).
 *
 *   node bench/hedging/main.ts [--quick] [--jobs N] [--seeds 1,2,3] [--out DIR]
 *     → DIR/hedging{-quick}.{md,json} (DIR defaults to bench/results)
 *   HEDGING_CONFIG='{"budget":"p95"}' tries other `router.hedging` settings (the rest: defaults).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { commandLine, describeMachine } from '../lib/machine.ts';
import { forkUnit, pool } from '../lib/pool.ts';
import { renderReport, summarise } from './report.ts';
import type { RunResult, Settings } from './run.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '1' },
    seeds: { type: 'string' },
    out: { type: 'string', default: 'bench/results' },
  },
});
const quick = values.quick ?? false;
const seeds = (values.seeds ?? (quick ? '1,2,3' : '1,2,3,4,5')).split(',').map(Number);
const settings: Settings = {
  endpoints: 8,
  // Full size: ~1,100 measured requests per run, so p99 is the 11th-slowest, not one unlucky request.
  ratePerS: quick ? 12 : 20,
  durationMs: quick ? 20_000 : 60_000,
  warmupMs: 4_000,
  maxPrompt: 8_000,
  maxOutput: 400,
  straggler: { factor: 10, periodMs: 6_000, slowMs: 2_000, offsetMs: 3_000 },
  hedging: { enabled: true, ...(JSON.parse(process.env.HEDGING_CONFIG ?? '{}') as Record<string, unknown>) },
  // Beside the checkout, as for bench:routing (run from the repo root).
  trace: '../shared/traces/azure_llm_2023/AzureLLMInferenceTrace_conv.csv',
};

const started = new Date().toISOString();
const groups = (['straggler', 'no-straggler'] as const).flatMap((scenario) =>
  seeds.map((seed) => ({ scenario, seed })),
);
const script = new URL('./run.ts', import.meta.url).pathname;
const results = (
  await pool(groups, Number(values.jobs), (g) =>
    forkUnit<RunResult[]>(script, ['--group', JSON.stringify({ settings, ...g })]),
  )
).flat();

const summary = summarise(results, seeds);
const machine = describeMachine({});
const report = renderReport({
  quick,
  command: commandLine(),
  date: started,
  machine,
  settings,
  seeds,
  jobs: Number(values.jobs),
  summary,
  results,
});
mkdirSync(values.out, { recursive: true });
const base = join(values.out, `hedging${quick ? '-quick' : ''}`);
writeFileSync(`${base}.md`, report);
writeFileSync(
  `${base}.json`,
  `${JSON.stringify({ command: commandLine(), date: started, machine, settings, seeds, summary, runs: results }, null, 2)}\n`,
);
console.log(report);
