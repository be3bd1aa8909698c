/**
 * `npm run bench:routing [-- --trace FILE ...] [--quick] [--out DIR] [--mode virtual|real]`
 *
 * Replays real traces against a heterogeneous simulated fleet (H100 and A100 profiles) at 50%, 80%
 * and 95% of nominal fleet capacity, every strategy (scoring profile) in the same run, and writes
 * JSON + a markdown table to bench/results/routing-<mode>.{json,md} with machine, seed and command.
 * `--mode virtual` (default) runs on virtual time, no sockets; `--scale N` adds a run at N endpoints.
 * `--mode real` replays through real meshd + simulator processes (real.ts; `--time-scale`, `--sims`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fleetCapacity, type EndpointSpec } from './capacity.ts';
import { SLO, summarise, type RunSummary } from './metrics.ts';
import { renderMarkdown } from './report.ts';
import { loadTrace, type Trace } from './traces.ts';
import { runVirtual } from './virtual.ts';

export const STRATEGIES = [
  'default',
  'least-outstanding',
  'power-of-two',
  'round-robin',
  'random',
  'llm-d',
  'sglang-cache-aware',
] as const;

export interface RunRow {
  trace: string;
  load: number;
  endpoints: number;
  strategy: string;
  offeredRps: number;
  summary: RunSummary;
  decisionP99Us: number;
  preemptions: number;
  wallMs: number;
}

const { values } = parseArgs({
  options: {
    trace: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    mode: { type: 'string', default: 'virtual' },
    requests: { type: 'string' },
    seed: { type: 'string', default: '1' },
    scale: { type: 'string' },
    loads: { type: 'string' },
    strategies: { type: 'string' },
    admission: { type: 'boolean', default: false },
    'scrape-ms': { type: 'string', default: '1000' },
    'time-scale': { type: 'string' }, // --mode real only
    sims: { type: 'string' }, // --mode real only
  },
});

const TRACES = values.trace ?? [
  '../shared/traces/mooncake_fast25/conversation_trace.jsonl',
  '../shared/traces/azure_llm_2023/AzureLLMInferenceTrace_conv.csv',
];

/** 8 H100 + 8 A100 (80 GB each: 32,768 KV blocks of 16 tokens ≈ 512k tokens of Llama-3-8B KV). */
export function makeFleet(n: number): EndpointSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    gpu: i % 2 === 0 ? 'h100' : 'a100',
    maxNumSeqs: 64,
    kvBlocks: 32_768,
  }));
}

function percentile99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] ?? NaN;
}

function runMatrix(
  trace: Trace,
  endpoints: number,
  count: number,
  loads: number[],
  strategies: readonly string[],
  seed: number,
): RunRow[] {
  const requests = trace.requests.slice(0, count);
  const fleet = makeFleet(endpoints);
  const capacity = fleetCapacity(fleet, requests);
  const spanMs = requests[requests.length - 1]!.arrivalMs || 1;
  const traceRps = requests.length / (spanMs / 1000);
  const rows: RunRow[] = [];
  for (const load of loads) {
    const offered = load * capacity;
    for (const strategy of strategies) {
      const t0 = performance.now();
      const r = runVirtual({
        requests,
        timeFactor: traceRps / offered,
        fleet,
        profile: strategy,
        seed,
        scrapeIntervalMs: Number(values['scrape-ms']),
        admission: values.admission ?? false,
      });
      const summary = summarise(r.records, r, r.prefixHitRate);
      const row: RunRow = {
        trace: trace.name,
        load,
        endpoints,
        strategy,
        offeredRps: offered,
        summary,
        decisionP99Us: percentile99(r.decisionUs),
        preemptions: r.preemptions,
        wallMs: performance.now() - t0,
      };
      rows.push(row);
      console.error(
        `${trace.name} n=${endpoints} load=${load} ${strategy.padEnd(18)} ttft p50/p99 ${summary.ttftP50Ms.toFixed(0)}/${summary.ttftP99Ms.toFixed(0)} ms  goodput ${summary.goodputRps.toFixed(2)} rps  hit ${(summary.prefixHitRate * 100).toFixed(1)}%  (${row.wallMs.toFixed(0)} ms)`,
      );
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const seed = Number(values.seed);
  const quick = values.quick ?? false;
  const count = Number(values.requests ?? (quick ? 600 : 3000));
  const loads = values.loads ? values.loads.split(',').map(Number) : [0.5, 0.8, 0.95];
  const strategies = values.strategies ? values.strategies.split(',') : STRATEGIES;
  if (values.mode === 'real') {
    const { runReal } = await import('./real.ts');
    const command = `npm run bench:routing -- ${process.argv.slice(2).join(' ')}`.trim();
    const real = { timeScale: values['time-scale'], sims: values.sims, requests: values.requests };
    return runReal({
      ...real,
      traces: TRACES,
      quick,
      loads,
      strategies,
      seed,
      out: values.out,
      command,
      admission: values.admission ?? false,
      scrapeMs: Number(values['scrape-ms']),
    });
  }
  if (values.mode !== 'virtual') throw new Error(`--mode ${values.mode}: "virtual" or "real"`);
  const rows: RunRow[] = [];
  for (const file of TRACES) rows.push(...runMatrix(loadTrace(file), 16, count, loads, strategies, seed));
  if (values.scale) {
    const n = Number(values.scale);
    const mooncake = loadTrace(TRACES[0]!);
    rows.push(
      ...runMatrix(
        mooncake,
        n,
        Math.min(mooncake.requests.length, quick ? 3000 : 12_000),
        [0.8],
        ['default', 'least-outstanding'],
        seed,
      ),
    );
  }
  const meta = {
    mode: 'virtual',
    command: `npm run bench:routing -- ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: `${hostname()} ${cpus().length}×${cpus()[0]?.model ?? '?'} ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    seed,
    requestsPerTrace: count,
    scrapeIntervalMs: Number(values['scrape-ms']),
    admission: values.admission ?? false,
    slo: SLO,
    goodput: 'requests within the SLO per second of offered time (first to last arrival)',
    fleet: '16 endpoints: 8 × H100 profile, 8 × A100 profile (maxNumSeqs 64, 32,768 KV blocks)',
  };
  mkdirSync(values.out, { recursive: true });
  const base = join(values.out, quick ? 'routing-virtual-quick' : 'routing-virtual');
  writeFileSync(`${base}.json`, JSON.stringify({ meta, rows }, null, 2) + '\n');
  writeFileSync(`${base}.md`, renderMarkdown(meta, rows));
  console.error(`wrote ${base}.json and ${base}.md`);
}

await main();
