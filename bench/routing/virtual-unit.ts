/**
 * One unit of the virtual benchmark: a trace on a fleet, in two phases so that main.ts can spread
 * a run over every core (one child process per job, `--jobs` at a time):
 * 1. `unitCapacity` (one job per trace × fleet) draws each seed's requests and finds the capacity
 *    under the SLO; the search needs every seed's window, so it cannot be split further.
 * 2. `unitRuns` (one job per trace × fleet × load × seed) runs every strategy at that load and seed
 *    against phase 1's capacity. It redraws its seed's requests rather than receiving them (they
 *    are large): `loadUnit` is the one place both phases size and draw windows from, and the
 *    redrawn window is checked against phase 1's.
 */
import { BUILTIN_PROFILES } from '../../src/scoring/profiles.ts';
import { fleetCapacity, makeFleet, type EndpointSpec, type FleetKind } from './capacity.ts';
import { sloCapacity, traceRps, type SloCapacity } from './capacity-slo.ts';
import { summarise, type RunSummary } from './metrics.ts';
import { loadTrace, sampleRequests, type Trace, type TraceRequest } from './traces.ts';
import { runVirtual } from './virtual.ts';

/** Every built-in profile: the project's default and each baseline. */
export const STRATEGIES: readonly string[] = Object.keys(BUILTIN_PROFILES);

/**
 * Scrape interval per strategy (simulated ms): every profile reads the same scrapes, except llm-d,
 * whose endpoint picker refreshes metrics every 50 ms (`refresh-metrics-interval` default).
 */
export const LLM_D_SCRAPE_MS = 50;
export function scrapeMsFor(strategy: string, scrapeMs: number): number {
  return strategy === 'llm-d' || strategy === 'llm-d-precise' ? LLM_D_SCRAPE_MS : scrapeMs;
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
  /** Replay Mooncake's buckets as recorded (traces.ts). */
  bursts: boolean;
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

/** A seed's request window, with the window's own trace rate. */
export interface SeedWindow {
  seed: number;
  requests: number;
  traceRps: number;
  meanMaxTokens: number;
  meanOutput: number;
}

/** Phase 1's result: what a unit's runs need from the capacity search, and what the report shows. */
export interface UnitCapacity {
  trace: string;
  fleet: FleetKind;
  capacity: SloCapacity;
  /** Requests per seed window, with the window's own trace rate. */
  windows: SeedWindow[];
}

/** A whole unit, reassembled by main.ts: rows by load, then seed, then strategy. */
export interface UnitResult extends UnitCapacity {
  rows: RunRow[];
}

/** Phase 2's job: every strategy at one load and seed of a unit. */
export interface RunsSpec {
  unit: UnitSpec;
  load: number;
  seed: number;
  /** Phase 1's capacity under the SLO; the runs offer `load` × this. */
  capacityRps: number;
  /** Phase 1's window for `seed`: the redrawn one must match it. */
  window: SeedWindow;
}

function percentile99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] ?? NaN;
}

/**
 * The trace, the fleet and the requests per seed window of a unit. Both phases size their windows
 * here, so phase 2 redraws exactly the requests phase 1 searched the capacity on.
 */
function loadUnit(u: UnitSpec): { trace: Trace; fleet: EndpointSpec[]; count: number } {
  const trace = loadTrace(u.traceFile, { spreadBuckets: !u.bursts });
  const fleet = makeFleet(u.fleet, u.endpoints);
  // Enough requests that a run at up to twice the mean-throughput estimate spans `minSpanS`: a short
  // burst fits in a GPU-sized fleet's batches whatever the rate, and would make any rate "meet" the SLO.
  const estimate = fleetCapacity(fleet, sampleRequests(trace, u.count, u.seeds[0] ?? 1));
  const count = Math.min(trace.requests.length, Math.max(u.count, Math.ceil(2 * estimate * u.minSpanS)));
  return { trace, fleet, count };
}

function describeWindow(seed: number, reqs: readonly TraceRequest[]): SeedWindow {
  return {
    seed,
    requests: reqs.length,
    traceRps: traceRps(reqs),
    meanMaxTokens: reqs.reduce((a, r) => a + (r.maxTokens ?? 0), 0) / (reqs.length || 1),
    meanOutput: reqs.reduce((a, r) => a + r.outputTokens, 0) / (reqs.length || 1),
  };
}

/** Phase 1: each seed's window and the capacity under the SLO on all of them. */
export function unitCapacity(u: UnitSpec, log: (line: string) => void): UnitCapacity {
  const { trace, fleet, count } = loadUnit(u);
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
  const windows = [...bySeed].map(([seed, reqs]) => describeWindow(seed, reqs));
  return { trace: trace.name, fleet: u.fleet, capacity, windows };
}

/** Phase 2: every strategy at one load and seed, in `u.strategies` order. */
export function unitRuns(o: RunsSpec, log: (line: string) => void): RunRow[] {
  const { unit: u, load, seed } = o;
  const { trace, fleet, count } = loadUnit(u);
  const requests = sampleRequests(trace, count, seed);
  // Compared as JSON, the form phase 1's window came in (a NaN there arrived as null).
  const redrawn = JSON.stringify(describeWindow(seed, requests));
  if (redrawn !== JSON.stringify(o.window))
    throw new Error(`${trace.name} ${u.fleet} seed ${seed}: window ${redrawn} differs from phase 1's`);
  const offered = load * o.capacityRps;
  return u.strategies.map((strategy) => {
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
    log(
      `${trace.name} ${u.fleet} load=${load} seed=${seed} ${strategy.padEnd(22)} ttft p50/p99 ${summary.ttftP50Ms.toFixed(0)}/${summary.ttftP99Ms.toFixed(0)} ms  SLO ${(summary.goodputFrac * 100).toFixed(1)}%`,
    );
    return {
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
    };
  });
}

// As a child process of main.ts: run the phase named on the command line, send the result back.
const [, , phase, arg] = process.argv;
if (process.send && arg !== undefined && (phase === '--capacity' || phase === '--runs')) {
  const log = (line: string) => process.stderr.write(line + '\n');
  const result =
    phase === '--capacity'
      ? unitCapacity(JSON.parse(arg) as UnitSpec, log)
      : unitRuns(JSON.parse(arg) as RunsSpec, log);
  process.send(result, () => process.exit(0));
}
