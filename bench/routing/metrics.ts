/** Summaries of one routing run: latency percentiles, throughput, goodput within the stated SLO. */
import type { RequestRecord } from './virtual.ts';

/** The SLO goodput counts against (stated in every report). */
export const SLO = { ttftMs: 5000, itlMs: 100 } as const;

/**
 * A run meets the SLO when at least this share of its requests finish within it (TTFT and ITL
 * both): the attainment level DistServe and most serving papers use. The capacity search finds the
 * highest rate at which a baseline still does.
 */
export const SLO_ATTAINMENT = 0.9;

/** Whether a run met the SLO (attainment at least `SLO_ATTAINMENT`). */
export function meetsSlo(s: Pick<RunSummary, 'goodputFrac'>): boolean {
  return s.goodputFrac >= SLO_ATTAINMENT;
}

export interface RunSummary {
  requests: number;
  ok: number;
  rejected429: number;
  unavailable503: number;
  ttftP50Ms: number;
  ttftP90Ms: number;
  ttftP99Ms: number;
  e2eP99Ms: number;
  itlMeanMs: number;
  itlP99Ms: number;
  outputTokPerS: number;
  /**
   * Requests within the SLO per second of offered time (first to last arrival). Dividing by the
   * makespan instead would count the drain of the last requests, which in a short run swamps any
   * difference between strategies that all meet the SLO.
   */
  goodputRps: number;
  /** Share of all requests that finished within the SLO. */
  goodputFrac: number;
  prefixHitRate: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function summarise(
  records: readonly RequestRecord[],
  time: { makespanMs: number; offeredMs: number },
  prefixHitRate: number,
): RunSummary {
  const ok = records.filter((r) => r.status === 'ok');
  const sort = (xs: number[]) => xs.sort((a, b) => a - b);
  const ttft = sort(ok.map((r) => r.ttftMs));
  const e2e = sort(ok.map((r) => r.e2eMs));
  const itl = sort(ok.map((r) => r.itlMs));
  const good = ok.filter((r) => r.ttftMs <= SLO.ttftMs && r.itlMs <= SLO.itlMs).length;
  const tokens = ok.reduce((a, r) => a + r.outputTokens, 0);
  const seconds = time.makespanMs / 1000;
  const offeredSeconds = Math.max(time.offeredMs, 1) / 1000;
  return {
    requests: records.length,
    ok: ok.length,
    rejected429: records.filter((r) => r.status === 'rejected').length,
    unavailable503: records.filter((r) => r.status === 'unavailable').length,
    ttftP50Ms: quantile(ttft, 0.5),
    ttftP90Ms: quantile(ttft, 0.9),
    ttftP99Ms: quantile(ttft, 0.99),
    e2eP99Ms: quantile(e2e, 0.99),
    itlMeanMs: itl.reduce((a, b) => a + b, 0) / (itl.length || 1),
    itlP99Ms: quantile(itl, 0.99),
    outputTokPerS: tokens / seconds,
    goodputRps: good / offeredSeconds,
    goodputFrac: good / (records.length || 1),
    prefixHitRate,
  };
}
