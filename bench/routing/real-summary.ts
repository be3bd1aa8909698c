/**
 * Turns what the `--mode real` client saw into the records the shared summary (`metrics.ts`)
 * takes, in simulated time, and counts what that summary has no column for: timeouts, other
 * errors, the share of requests the router sent to H100s and how late the client sent.
 */
import { quantile } from './metrics.ts';
import type { RealRecord } from './real-load.ts';
import type { RequestRecord } from './virtual.ts';

export interface RealSummaryInput {
  /** ok / 429 / 503 answers, latencies × time scale. */
  records: RequestRecord[];
  timeouts: number;
  errors: number;
  /** Up to three distinct error messages, for the report. */
  firstErrors: string[];
  /** Share of answered requests served by an H100 endpoint. */
  h100Share: number;
  /** p99 of how late requests left the client, wall ms. */
  sendLagP99Ms: number;
}

export function toSummaryRecords(
  real: readonly RealRecord[],
  endpointIds: readonly string[],
  timeScale: number,
): RealSummaryInput {
  const records: RequestRecord[] = [];
  const firstErrors = new Set<string>();
  let timeouts = 0;
  let errors = 0;
  let answered = 0;
  let h100 = 0;
  for (const [index, r] of real.entries()) {
    if (r.endpoint) {
      answered++;
      if (r.endpoint.includes('/h100-')) h100++;
    }
    if (r.status === 'timeout' || r.status === 'error') {
      if (r.status === 'timeout') timeouts++;
      else errors++;
      if (r.error && firstErrors.size < 3) firstErrors.add(r.error.slice(0, 160));
      continue;
    }
    records.push({
      status: r.status,
      ttftMs: r.ttftMs * timeScale,
      e2eMs: r.e2eMs * timeScale,
      itlMs: r.itlMs * timeScale,
      outputTokens: r.outputTokens,
      endpoint: endpointIds.indexOf(r.endpoint),
      index,
    });
  }
  const lags = real.map((r) => r.sendLagMs).sort((a, b) => a - b);
  return {
    records,
    timeouts,
    errors,
    firstErrors: [...firstErrors],
    h100Share: answered > 0 ? h100 / answered : NaN,
    sendLagP99Ms: quantile(lags, 0.99),
  };
}
