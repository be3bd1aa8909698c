/**
 * `npm run bench:routing [-- --trace FILE ...] [--quick] [--out DIR] [--mode virtual|real]`
 *
 * Replays real traces against simulated fleets sized like real GPUs (mixed 8 × H100 + 8 × A100, and
 * 16 × H100), every built-in scoring profile, at 50/80/95% of the capacity under the SLO (the
 * highest rate at which least-outstanding still meets it, found by search), over ≥ 3 seeds, and
 * writes bench/results/routing-<mode>{-quick}.{json,md}: per-seed rows, means with 95% intervals,
 * the default's verdict against each baseline and the issue's targets.
 * `--mode virtual` (default) runs on virtual time, no sockets, in child processes `--jobs` at a time
 * (default: one per CPU), in two phases (virtual-unit.ts): the capacity search per trace × fleet,
 * then every strategy per trace × fleet × load × seed. A trace × fleet alone would keep at most 4
 * cores busy. `--mode real` replays through real meshd + simulator processes (real.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { forkUnit, pool } from '../lib/pool.ts';
import { describeFleet, FLEETS, type FleetKind } from './capacity.ts';
import { SLO, SLO_ATTAINMENT } from './metrics.ts';
import { renderMarkdown } from './report.ts';
import { CLIENT_MAX_TOKEN_CAPS, describeArrivals } from './traces.ts';
import { cells, compare, targets } from './verdicts.ts';
import {
  LLM_D_SCRAPE_MS,
  STRATEGIES,
  type RunRow,
  type RunsSpec,
  type UnitCapacity,
  type UnitResult,
  type UnitSpec,
} from './virtual-unit.ts';

export { STRATEGIES };

const { values } = parseArgs({
  options: {
    trace: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    mode: { type: 'string', default: 'virtual' },
    requests: { type: 'string' },
    seed: { type: 'string' }, // one seed (real mode; virtual: same as --seeds N)
    seeds: { type: 'string', default: '1,2,3' },
    fleets: { type: 'string', default: 'mixed,h100' },
    loads: { type: 'string' },
    strategies: { type: 'string' },
    admission: { type: 'boolean', default: false },
    'scrape-ms': { type: 'string', default: '1000' },
    'capacity-baseline': { type: 'string', default: 'least-outstanding' },
    jobs: { type: 'string' },
    'time-scale': { type: 'string' }, // --mode real only
    sims: { type: 'string' }, // --mode real only
    repeat: { type: 'string' }, // --mode real only
    routers: { type: 'string' }, // --mode real only: active-active routers, compared with one
    'router-workers': { type: 'string' }, // --mode real only, with --routers
    bursts: { type: 'boolean', default: false }, // Mooncake's 3 s buckets as recorded (traces.ts)
  },
});

const TRACES = values.trace ?? [
  '../shared/traces/mooncake_fast25/conversation_trace.jsonl',
  '../shared/traces/azure_llm_2023/AzureLLMInferenceTrace_conv.csv',
];

/** A job of a phase in a child process (`virtual-unit.ts --capacity|--runs SPEC`), one per core. */
const runChild = <R>(phase: '--capacity' | '--runs', spec: object): Promise<R> =>
  forkUnit<R>(new URL('./virtual-unit.ts', import.meta.url).pathname, [phase, JSON.stringify(spec)]);

/**
 * `pool`, Mooncake (`.jsonl`) jobs first: they are the long ones, and one started last would run
 * alone at the end. Results come back in `items`' order.
 */
async function poolLongFirst<T, R>(
  items: readonly T[],
  traceFile: (t: T) => string,
  jobs: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const long = (i: number) => Number(traceFile(items[i]!).endsWith('.jsonl'));
  const order = items.map((_, i) => i).sort((a, b) => long(b) - long(a));
  const done = await pool(order, jobs, (i) => fn(items[i]!));
  const out = new Array<R>(items.length);
  order.forEach((i, k) => (out[i] = done[k]!));
  return out;
}

async function main(): Promise<void> {
  const quick = values.quick ?? false;
  const loads = values.loads ? values.loads.split(',').map(Number) : [0.5, 0.8, 0.95];
  const strategies = values.strategies ? values.strategies.split(',') : [...STRATEGIES];
  const command = `npm run bench:routing -- ${process.argv.slice(2).join(' ')}`.trim();
  if (values.mode === 'real') {
    const { runReal } = await import('./real.ts');
    const real = {
      timeScale: values['time-scale'],
      sims: values.sims,
      requests: values.requests,
      repeat: values.repeat,
      routers: values.routers,
      routerWorkers: values['router-workers'],
    };
    return runReal({
      ...real,
      traces: TRACES,
      quick,
      loads,
      strategies,
      seed: Number(values.seed ?? 1),
      out: values.out,
      command,
      admission: values.admission ?? false,
      scrapeMs: Number(values['scrape-ms']),
      bursts: values.bursts ?? false,
    });
  }
  if (values.mode !== 'virtual') throw new Error(`--mode ${values.mode}: "virtual" or "real"`);
  const seeds = values.seed ? [Number(values.seed)] : values.seeds.split(',').map(Number);
  const count = Number(values.requests ?? (quick ? 250 : 2000));
  const fleets = values.fleets.split(',') as FleetKind[];
  for (const k of fleets)
    if (!(k in FLEETS)) throw new Error(`--fleets: ${k} is not one of ${Object.keys(FLEETS).join(', ')}`);
  const scrapeMs = Number(values['scrape-ms']);
  const specs: UnitSpec[] = TRACES.flatMap((traceFile) =>
    fleets.map((fleet) => ({
      traceFile,
      fleet,
      endpoints: 16,
      count,
      minSpanS: quick ? 5 : 20,
      seeds,
      loads,
      strategies,
      scrapeMs,
      admission: values.admission ?? false,
      capacityBaseline: values['capacity-baseline'],
      bursts: values.bursts ?? false,
    })),
  );
  const jobs = Number(values.jobs ?? Math.max(1, cpus().length));
  const t0 = performance.now();
  const unitLabel = (u: UnitSpec) => `${u.traceFile} ${u.fleet}`;
  // Phase 1: the capacity under the SLO per trace × fleet (every load's rate depends on it).
  const found = await poolLongFirst(
    specs,
    (u) => u.traceFile,
    jobs,
    (u) => runChild<UnitCapacity>('--capacity', u),
  );
  // Phase 2: every strategy per trace × fleet × load × seed, listed by load, then seed (the rows' order).
  const runs: RunsSpec[] = specs.flatMap((unit, i) => {
    const { capacity, windows } = found[i]!;
    // A search where no rate passed gives NaN, which JSON turns into null: no load can be set from it.
    if (!(capacity.rps > 0)) throw new Error(`${unitLabel(unit)}: no rate met the SLO (${capacity.rps})`);
    return loads.flatMap((load) =>
      seeds.map((seed) => ({
        unit,
        load,
        seed,
        capacityRps: capacity.rps,
        window: windows.find((w) => w.seed === seed)!,
      })),
    );
  });
  const rowsByRun = await poolLongFirst(
    runs,
    (r) => r.unit.traceFile,
    jobs,
    (r) => runChild<RunRow[]>('--runs', r),
  );
  const units: UnitResult[] = specs.map((unit, i) => ({
    ...found[i]!,
    rows: runs.flatMap((r, j) => (r.unit === unit ? rowsByRun[j]! : [])),
  }));
  const rows = units.flatMap((u) => u.rows);
  const all = cells(rows);
  const comparisons = compare(all);
  const checks = targets(comparisons);
  const minutes = (performance.now() - t0) / 60_000;
  const meta = {
    mode: 'virtual: the scoring engine in front of simulator engines on one virtual clock, no sockets',
    command,
    date: new Date().toISOString(),
    machine: `${hostname()} ${cpus().length}×${cpus()[0]?.model ?? '?'} ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    duration: `${minutes.toFixed(1)} min wall, ${jobs} job(s) in parallel: ${specs.length} capacity searches (trace × fleet), then ${runs.length} runs of every strategy (trace × fleet × load × seed)`,
    seeds: `${seeds.join(', ')}: each seed draws the trace window (seed 1 = the trace's first ${count} requests, others a seeded offset), the client max_tokens caps, the simulators' seeds and the random pickers`,
    requestsPerRun: `at least ${count}, and enough that a run at twice the mean-throughput estimate spans ${quick ? 5 : 20} s (a shorter burst fits in the GPU-sized batches at any rate); rates past requests ÷ ${quick ? 5 : 20} s are not probed ("window" in the capacity table). Per unit: see the capacity table`,
    fleets: fleets.map((k) => describeFleet(k, 16)),
    strategies: strategies.join(', '),
    staleness: `every profile reads the same scrapes of the simulators (waiting, running, KV usage, KV block size and count: what the vLLM adapter scrapes; no batch limit) refreshed every ${scrapeMs} ms (staggered), plus its own in-flight requests at once; llm-d's every ${LLM_D_SCRAPE_MS} ms (its picker's refresh-metrics-interval default); the default is reported at the same ${scrapeMs} ms as the other baselines`,
    arrivals: describeArrivals(!values.bursts),
    maxTokens: `the router sees a client cap, uniform over {${CLIENT_MAX_TOKEN_CAPS.join(', ')}} among caps ≥ the true length (traces' longest answers: 2,000 tokens); the simulator is told the true length directly (the router never reads it)`,
    slo: { ...SLO, attainment: SLO_ATTAINMENT },
    loads: `${loads.map((l) => `${Math.round(l * 100)}%`).join(', ')} of the capacity under the SLO: the highest rate at which ${values['capacity-baseline']} still has ≥ ${SLO_ATTAINMENT * 100}% of requests within the SLO on every seed (search: bracket from a mean-throughput estimate by ×2 steps, then 4 log-scale bisections; ≤ 10 probes). least-outstanding is the field's common default balancer and the reference of the 3× target; the stronger peers then run below their own capacity`,
    verdicts:
      'paired per-seed ratios default ÷ baseline on a log scale, 95% t-interval over seeds (df = seeds − 1); SLO attainment as a paired difference (±0.5 point counts as no difference)',
    goodput: 'requests within the SLO per second of offered time (first to last arrival)',
    admission: values.admission ?? false,
  };
  mkdirSync(values.out, { recursive: true });
  const base = join(values.out, quick ? 'routing-virtual-quick' : 'routing-virtual');
  const capacities = units.map((u) => ({
    trace: u.trace,
    fleet: u.fleet,
    ...u.capacity,
    windows: u.windows,
  }));
  writeFileSync(
    `${base}.json`,
    JSON.stringify({ meta, capacities, targets: checks, comparisons, cells: all, rows }, null, 2) + '\n',
  );
  writeFileSync(`${base}.md`, renderMarkdown(meta, units, all, comparisons, checks));
  for (const t of checks)
    console.error(`${t.met ? 'MET   ' : 'MISSED'} ${t.target} · ${t.where}: ${t.measured} (${t.by})`);
  console.error(`wrote ${base}.json and ${base}.md (${minutes.toFixed(1)} min)`);
}

await main();
