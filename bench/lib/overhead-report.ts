/**
 * The router-overhead report: throughput and latency per path, the ratios the data-plane targets
 * name, each target checked (by how much a miss misses), and what the numbers say about why
 * (a proxy that left cores idle, a load generator or backend at its limit, errors).
 */
import { parseCores } from './cores.ts';
import { machineLine, type Machine } from './machine.ts';
import type { CpuReading } from './proc-stats.ts';
import { atLeast, atMost, fmt, int, table, targetsTable, type TargetCheck } from './report.ts';
import { errorCount, type WrkResult } from './wrk.ts';

export interface Measured {
  wrk: WrkResult;
  proxyCpu: CpuReading;
  backendCpu: CpuReading;
}

export interface PathRun {
  id: string;
  title: string;
  /** The proxy's cores (`taskset -c` list); empty for direct. */
  cores: string;
  coreCount: number;
  throughput: Measured;
  /** The paced run (~`rate` req/s), for paths whose added latency is reported. */
  paced?: Measured;
}

export interface OverheadSettings {
  vsNginx: boolean;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  rate: number;
  latencySeconds: number;
  latencyConnections: number;
}

export interface OverheadReport {
  date: string;
  machine: Machine;
  command: string;
  settings: OverheadSettings;
  cores: { proxy: string; load: string; backend: string; shared: boolean };
  workload: { request: string; answer: string };
  runs: PathRun[];
  targets: TargetCheck[];
}

/** CPU microseconds the proxy spent per request. */
const cpuPerRequest = (m: Measured) =>
  m.wrk.requests > 0 ? (m.proxyCpu.cpuSeconds * 1e6) / m.wrk.requests : undefined;

const rps = (runs: PathRun[], id: string) => runs.find((r) => r.id === id)?.throughput.wrk.requestsPerSecond;

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** What limited a throughput run, as far as CPU times and errors tell. */
function limits(run: PathRun | undefined, loadCores: number, backendCores: number): string[] {
  if (!run) return [];
  const out: string[] = [];
  const t = run.throughput;
  if (run.coreCount > 0 && t.proxyCpu.cores < 0.85 * run.coreCount)
    out.push(`${run.title} kept ${fmt(t.proxyCpu.cores)} of its ${run.coreCount} cores busy`);
  if (t.wrk.wrkCores >= 0.9 * loadCores)
    out.push(
      `wrk used ${fmt(t.wrk.wrkCores)} of its ${loadCores} cores: the load generator may be the limit`,
    );
  if (t.backendCpu.cores >= 0.85 * backendCores)
    out.push(`the backend used ${fmt(t.backendCpu.cores)} of its ${backendCores} cores`);
  const errors = errorCount(t.wrk);
  if (errors > 0) out.push(`${errors} errors (${JSON.stringify(t.wrk.errors)})`);
  return out;
}

const coreCount = (list: string) => parseCores(list).length;

/** The issue's targets, checked against one run. */
export function overheadTargets(
  runs: PathRun[],
  settings: OverheadSettings,
  cores: OverheadReport['cores'],
): TargetCheck[] {
  const loadCores = coreCount(cores.load);
  const backendCores = coreCount(cores.backend);
  const byId = (id: string) => runs.find((r) => r.id === id);
  const [m1, m4, b1] = [byId('meshd-1'), byId('meshd-4'), byId('bare-1')];
  const why = (...parts: (string | undefined)[]) => parts.filter(Boolean).join('; ');
  const cpuNote =
    m1 && b1
      ? `CPU per request: meshd ${fmt(cpuPerRequest(m1.throughput), 1)} µs, bare proxy ${fmt(cpuPerRequest(b1.throughput), 1)} µs`
      : undefined;
  const checks = [
    atLeast(
      'throughput, 1 core: meshd ≥ 0.9× the bare node:http + undici proxy',
      ratio(rps(runs, 'meshd-1'), rps(runs, 'bare-1')),
      0.9,
      {
        unit: '×',
        why: why(cpuNote, ...limits(m1, loadCores, backendCores), ...limits(b1, loadCores, backendCores)),
      },
    ),
    atLeast(
      `throughput: meshd at ${m4?.coreCount ?? 4} cores ≥ 3.5× its own 1-core figure`,
      ratio(rps(runs, 'meshd-4'), rps(runs, 'meshd-1')),
      3.5,
      { unit: '×', why: why(...limits(m4, loadCores, backendCores)) },
    ),
  ];
  const direct = byId('direct')?.paced?.wrk.latencyMs;
  for (const m of [m1, m4]) {
    const paced = m?.paced;
    const added = (key: 'p50' | 'p99') =>
      paced && direct ? paced.wrk.latencyMs[key] - direct[key] : undefined;
    const rateNote =
      paced && paced.wrk.requestsPerSecond < 0.9 * settings.rate
        ? `the paced run reached only ${int(paced.wrk.requestsPerSecond)} req/s`
        : undefined;
    const note = why(
      paced ? `meshd CPU ${fmt(cpuPerRequest(paced), 1)} µs per request at this rate` : undefined,
      rateNote,
      paced && errorCount(paced.wrk) > 0 ? `${errorCount(paced.wrk)} errors` : undefined,
    );
    const label = m?.title ?? 'meshd';
    const ms = { unit: ' ms', digits: 3, why: note };
    checks.push(
      atMost(`added latency at ${settings.rate} req/s, ${label}: p50 ≤ 0.5 ms`, added('p50'), 0.5, ms),
      atMost(`added latency at ${settings.rate} req/s, ${label}: p99 ≤ 2 ms`, added('p99'), 2, ms),
    );
  }
  return checks;
}

export function overheadMarkdown(r: OverheadReport): string {
  const s = r.settings;
  const loadCores = coreCount(r.cores.load);
  const backendCores = coreCount(r.cores.backend);
  const throughputRows = r.runs.map((run) => {
    const t = run.throughput;
    return [
      run.title,
      run.cores || '–',
      int(t.wrk.requestsPerSecond),
      fmt(t.wrk.latencyMs.p50, 3),
      fmt(t.wrk.latencyMs.p90, 3),
      fmt(t.wrk.latencyMs.p99, 3),
      run.coreCount > 0 ? fmt(t.proxyCpu.cores) : '–',
      run.coreCount > 0 ? fmt(cpuPerRequest(t), 1) : '–',
      fmt(t.backendCpu.cores),
      fmt(t.wrk.wrkCores),
      errorCount(t.wrk),
    ];
  });
  const direct = r.runs.find((x) => x.id === 'direct')?.paced?.wrk.latencyMs;
  const pacedRows = r.runs
    .filter((run) => run.paced)
    .map((run) => {
      const p = run.paced!;
      const l = p.wrk.latencyMs;
      return [
        run.title,
        int(p.wrk.requestsPerSecond),
        fmt(l.p50, 3),
        fmt(l.p90, 3),
        fmt(l.p99, 3),
        fmt(l.p999, 3),
        run.id === 'direct' || !direct ? '–' : fmt(l.p50 - direct.p50, 3),
        run.id === 'direct' || !direct ? '–' : fmt(l.p99 - direct.p99, 3),
        run.coreCount > 0 ? fmt(p.proxyCpu.cores) : '–',
        run.coreCount > 0 ? fmt(cpuPerRequest(p), 1) : '–',
        errorCount(p.wrk),
      ];
    });
  const rpsOf = (id: string) => rps(r.runs, id);
  const n = r.runs.find((x) => x.id === 'meshd-4')?.coreCount ?? 4;
  const ratios: [string, number | undefined][] = [
    ['meshd 1 core ÷ bare proxy 1 core (target ≥ 0.9)', ratio(rpsOf('meshd-1'), rpsOf('bare-1'))],
    [`meshd ${n} cores ÷ meshd 1 core (target ≥ 3.5 at 4)`, ratio(rpsOf('meshd-4'), rpsOf('meshd-1'))],
    [`meshd ${n - 1} workers on ${n} cores ÷ meshd 1 core`, ratio(rpsOf('meshd-4-less'), rpsOf('meshd-1'))],
    [
      `bare proxy ${n} ÷ bare proxy 1 (how far ${n} cores scale here)`,
      ratio(rpsOf('bare-4'), rpsOf('bare-1')),
    ],
  ];
  if (s.vsNginx) {
    ratios.push(
      ['meshd 1 core ÷ nginx 1 worker', ratio(rpsOf('meshd-1'), rpsOf('nginx-1'))],
      [`meshd ${n} cores ÷ nginx ${n} workers`, ratio(rpsOf('meshd-4'), rpsOf('nginx-4'))],
      ['bare proxy 1 ÷ nginx 1 worker', ratio(rpsOf('bare-1'), rpsOf('nginx-1'))],
      [`nginx ${n} workers ÷ nginx 1 worker`, ratio(rpsOf('nginx-4'), rpsOf('nginx-1'))],
    );
  }
  const notes = r.runs.flatMap((run) =>
    limits(run, loadCores, backendCores).map((n) => `- ${run.title} (throughput): ${n}`),
  );
  return `# Router overhead

- date: ${r.date}
- machine: ${machineLine(r.machine)}
- command: \`${r.command}\`
- cores (\`taskset -c\`): proxies ${r.cores.proxy} (1-core rows: the first of them), wrk ${r.cores.load}, backend ${r.cores.backend}${r.cores.shared ? '. **The sets overlap: a smoke test, not a measurement.**' : ''}
- workload: ${r.workload.request}; ${r.workload.answer}; backend = nginx with one worker per backend core
- throughput: wrk closed loop, ${s.connections} keep-alive connections, ${s.seconds} s per path after a ${s.warmupSeconds} s warm-up, a fresh proxy process per path
- latency: wrk paced to ~${s.rate} req/s over ${s.latencyConnections} connections for ${s.latencySeconds} s, right after the path's throughput run

## Throughput

"cores used" = CPU time of the proxy's processes (all threads, nginx's workers) ÷ wall time; "CPU µs/req" = that CPU time per request.

${table(
  [
    'path',
    'proxy cores',
    'req/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'cores used',
    'CPU µs/req',
    'backend cores used',
    'wrk cores used',
    'errors',
  ],
  throughputRows,
)}

${table(
  ['ratio', 'value'],
  ratios.map(([name, v]) => [name, v === undefined ? '–' : `${fmt(v)}×`]),
)}

## Added latency at ~${s.rate} req/s

${table(
  [
    'path',
    'req/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'p99.9 ms',
    'added p50 ms',
    'added p99 ms',
    'cores used',
    'CPU µs/req',
    'errors',
  ],
  pacedRows,
)}

## Targets

${targetsTable(r.targets)}
${notes.length > 0 ? `\n## What limited the runs\n\n${notes.join('\n')}\n` : ''}`;
}
