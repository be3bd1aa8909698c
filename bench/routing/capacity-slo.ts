/**
 * Capacity under the SLO: the highest offered rate at which the capacity baseline (least-outstanding
 * by default) still meets the SLO (`meetsSlo`: ≥ 90% of requests within TTFT and ITL targets) on
 * every seed's requests, found by a bounded search over short virtual runs (`searchCapacity`:
 * bracket from the mean-throughput estimate by doubling/halving, then 5 log-scale bisections).
 */
import { searchCapacity } from '../lib/capacity-search.ts';
import { fleetCapacity, type EndpointSpec } from './capacity.ts';
import { meetsSlo, summarise } from './metrics.ts';
import type { TraceRequest } from './traces.ts';
import { runVirtual } from './virtual.ts';

export interface SloCapacity {
  /** req/s: highest rate that met the SLO on every seed. */
  rps: number;
  /** req/s: lowest rate probed that missed it. */
  failedAtRps: number;
  /** The mean-throughput estimate the search started from. */
  estimateRps: number;
  baseline: string;
  /** `windowLimited`: not run, the rate was past `maxRps` (capacity is then at least the result). */
  probes: { rps: number; pass: boolean; attainment: number[]; windowLimited?: boolean }[];
}

/** Trace rate of a request window (req/s over its span). */
export function traceRps(requests: readonly TraceRequest[]): number {
  const spanMs = requests.at(-1)?.arrivalMs || 1;
  return requests.length / (spanMs / 1000);
}

export function sloCapacity(o: {
  bySeed: ReadonlyMap<number, readonly TraceRequest[]>;
  fleet: readonly EndpointSpec[];
  baseline: string;
  scrapeIntervalMs: number;
  /** Rates above this count as a miss without a run (the window would be too short to tell). */
  maxRps?: number;
}): SloCapacity {
  const first = [...o.bySeed.values()][0] ?? [];
  const estimate = fleetCapacity(o.fleet, first);
  const probes: SloCapacity['probes'] = [];
  const result = searchCapacity(
    (rps) => {
      const attainment: number[] = [];
      if (rps > (o.maxRps ?? Infinity)) {
        probes.push({ rps, pass: false, attainment, windowLimited: true });
        return false;
      }
      let pass = true;
      for (const [seed, requests] of o.bySeed) {
        const r = runVirtual({
          requests,
          timeFactor: traceRps(requests) / rps,
          fleet: o.fleet,
          profile: o.baseline,
          seed,
          scrapeIntervalMs: o.scrapeIntervalMs,
          admission: false,
        });
        const s = summarise(r.records, r, r.prefixHitRate);
        attainment.push(s.goodputFrac);
        if (!meetsSlo(s)) {
          pass = false;
          break; // one seed missing it is enough
        }
      }
      probes.push({ rps, pass, attainment, windowLimited: false });
      return pass;
    },
    { initial: estimate, steps: 4, maxBracket: 5 },
  );
  return {
    rps: result.rate,
    failedAtRps: result.failedAt,
    estimateRps: estimate,
    baseline: o.baseline,
    probes,
  };
}
