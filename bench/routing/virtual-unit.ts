/**
 * One unit of the virtual benchmark: a trace on a fleet. Draws each seed's requests, finds the
 * capacity under the SLO, then runs every (load, seed, strategy). Runs in a child process of
 * main.ts (one per unit, two at a time) so both cores of a small machine are used.
 */
import { BUILTIN_PROFILES } from '../../src/scoring/profiles.ts';
import { fleetCapacity, makeFleet, type FleetKind } from './capacity.ts';
import { sloCapacity, traceRps, type SloCapacity } from './capacity-slo.ts';
import { summarise, type RunSummary } from './metrics.ts';
import { loadTrace, sampleRequests, type TraceRequest } from './traces.ts';
import { runVirtual } from './virtual.ts';

/** Every built-in profile: the project's default and each baseline. */
export const STRATEGIES: readonly string[] = Object.keys(BUILTIN_PROFILES);

/**
 * Scrape interval per strategy (simulated ms): every profile reads the same scrapes, except llm-d,
 * whose endpoint picker refreshes metrics every 50 ms (`refresh-metrics-interval` default).
 */
export const LLM_D_SCRAPE_MS = 50;
export function scrapeMsFor(strategy: string, scrapeMs: number): number {
  return strategy === 'llm-d' ? LLM_D_SCRAPE_MS : scrapeMs;
}

export interface UnitSpec {
  traceFile: string;
  fleet: FleetKind;
  endpoints: number;
  /** Requests per run at least (more where needed for `minSpanS`). */
  count: number;
  /** Shortest offered span (virtual s) a run may have; rates beyond count ÷ this are not probed. */
  minSpanS: number;
  seeds: number[];
  loads: number[];
  strategies: string[];
  scrapeMs: number;
  admission: boolean;
  capacityBaseline: string;
}

export interface RunRow {
  trace: string;
  fleet: FleetKind;
  endpoints: number;
  load: number;
  seed: number;
  strategy: string;
  scrapeIntervalMs: number;
  offeredRps: number;
  summary: RunSummary;
  decisionP99Us: number;
  preemptions: number;
  wallMs: number;
}

export interface UnitResult {
  trace: string;
  fleet: FleetKind;
  capacity: SloCapacity;
  /** Requests per seed window, with the window's own trace rate. */
  windows: { seed: number; requests: number; traceRps: number; meanMaxTokens: number; meanOutput: number }[];
  rows: RunRow[];
}

function percentile99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] ?? NaN;
}

export function runUnit(u: UnitSpec, log: (line: string) => void): UnitResult {
  const trace = loadTrace(u.traceFile);
  const fleet = makeFleet(u.fleet, u.endpoints);
  // Enough requests that a run at up to twice the mean-throughput estimate spans `minSpanS`: a short
  // burst fits in a GPU-sized fleet's batches whatever the rate, and would make any rate "meet" the SLO.
  const estimate = fleetCapacity(fleet, sampleRequests(trace, u.count, u.seeds[0] ?? 1));
  const count = Math.min(trace.requests.length, Math.max(u.count, Math.ceil(2 * estimate * u.minSpanS)));
  const bySeed = new Map<number, TraceRequest[]>(u.seeds.map((s) => [s, sampleRequests(trace, count, s)]));
  const t0 = performance.now();
  const capacity = sloCapacity({
    bySeed,
    fleet,
    baseline: u.capacityBaseline,
    scrapeIntervalMs: u.scrapeMs,
    maxRps: count / u.minSpanS,
  });
  log(
    `${trace.name} ${u.fleet}: capacity under the SLO (${u.capacityBaseline}) ${capacity.rps.toFixed(2)} req/s (missed at ${capacity.failedAtRps.toFixed(2)}; estimate ${capacity.estimateRps.toFixed(2)}; ${capacity.probes.length} probes, ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  const rows: RunRow[] = [];
  for (const load of u.loads) {
    const offered = load * capacity.rps;
    for (const seed of u.seeds) {
      const requests = bySeed.get(seed)!;
      for (const strategy of u.strategies) {
        const started = performance.now();
        const scrapeIntervalMs = scrapeMsFor(strategy, u.scrapeMs);
        const r = runVirtual({
          requests,
          timeFactor: traceRps(requests) / offered,
          fleet,
          profile: strategy,
          seed,
          scrapeIntervalMs,
          admission: u.admission,
        });
        const summary = summarise(r.records, r, r.prefixHitRate);
        rows.push({
          trace: trace.name,
          fleet: u.fleet,
          endpoints: u.endpoints,
          load,
          seed,
          strategy,
          scrapeIntervalMs,
          offeredRps: offered,
          summary,
          decisionP99Us: percentile99(r.decisionUs),
          preemptions: r.preemptions,
          wallMs: performance.now() - started,
        });
        log(
          `${trace.name} ${u.fleet} load=${load} seed=${seed} ${strategy.padEnd(22)} ttft p50/p99 ${summary.ttftP50Ms.toFixed(0)}/${summary.ttftP99Ms.toFixed(0)} ms  SLO ${(summary.goodputFrac * 100).toFixed(1)}%`,
        );
      }
    }
  }
  const windows = [...bySeed].map(([seed, reqs]) => ({
    seed,
    requests: reqs.length,
    traceRps: traceRps(reqs),
    meanMaxTokens: reqs.reduce((a, r) => a + (r.maxTokens ?? 0), 0) / (reqs.length || 1),
    meanOutput: reqs.reduce((a, r) => a + r.outputTokens, 0) / (reqs.length || 1),
  }));
  return { trace: trace.name, fleet: u.fleet, capacity, windows, rows };
}

// As a child process: run the unit named on the command line and send the result to the parent.
if (process.argv[2] === '--unit' && process.send) {
  const spec = JSON.parse(process.argv[3]!) as UnitSpec;
  const result = runUnit(spec, (line) => process.stderr.write(line + '\n'));
  process.send(result, () => process.exit(0));
}
