/**
 * The markdown report of `--mode real`: the virtual mode's tables (same columns, so the two modes
 * read side by side), then what only a run with real processes has: the time scale, failures,
 * the router's H100 share and how late the client sent.
 */
import type { RunRow } from './main.ts';
import { renderMarkdown } from './report.ts';

/** One (trace, load, strategy) run of the real mode. */
export interface RealRunRow extends RunRow {
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

export function renderRealMarkdown(meta: Record<string, unknown>, rows: readonly RealRunRow[]): string {
  const out = [
    renderMarkdown(meta, rows).replace(/^# Routing benchmark/, '# Routing benchmark, real processes'),
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
      `| ${r.trace} | ${Math.round(r.load * 100)}% | ${r.strategy} | ${r.timeScale} | ${f(r.clientTtftMeanMs)} | ${f(r.engineTtftMeanMs)} | ${r.timeouts} | ${r.errors} | ${f(r.h100Share * 100, 1)} | ${f(r.sendLagP99Ms, 1)} | ${r.peakInFlight} | ${f(r.loadAvg1, 1)} | ${f(r.wallMs / 1000, 1)} |`,
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
