/**
 * Where a router thread's CPU goes: the same closed-loop load (wrk, `POST /v1/chat/completions`,
 * the static nginx backend of bench:router) through meshd with 1 worker on 1 core and N workers on
 * N cores, and through the bare Node proxy as 1 process, N processes and N worker threads of one
 * process. Per path: req/s, CPU µs per request, and each thread kind's share of the cores (from
 * /proc/PID/task): a router thread that costs more per request with N workers than with 1, while
 * the bare proxy's threads cost what its processes do, points at what meshd's workers share.
 *
 *   npm run bench:router-threads [-- --quick]      # a 16-core machine; --quick: a smoke test
 *
 * Flags: `--seconds N` (10), `--warmup-seconds N` (3), `--connections N` (64), `--proxy-cores`,
 * `--load-cores`, `--backend-cores` (as bench:router), `--quick`, `--out DIR`. Needs nginx and wrk.
 * Results: `router-threads{-quick}.{md,json}`.
 */
import { parseArgs } from 'node:util';
import { startBareProxy } from './lib/bare.ts';
import { coreSet, defaultCores, firstCores, type CoreSet } from './lib/cores.ts';
import { chatRequestBody } from './lib/fake-vllm.ts';
import { commandLine, describeMachine, machineLine } from './lib/machine.ts';
import { startMeshd } from './lib/meshd.ts';
import { startStaticBackend } from './lib/nginx.ts';
import { freePort } from './lib/ports.ts';
import { startCpuMeter, threadCpuSeconds } from './lib/proc-stats.ts';
import { installCleanup, stopAll, type Pinned } from './lib/procs.ts';
import { RESULTS_DIR, fmt, int, table, writeResults } from './lib/report.ts';
import { runWrk } from './lib/wrk.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    'warmup-seconds': { type: 'string' },
    connections: { type: 'string', default: '64' },
    'proxy-cores': { type: 'string', default: defaultCores(0, 4) },
    'load-cores': { type: 'string', default: defaultCores(4, 4) },
    'backend-cores': { type: 'string', default: defaultCores(8, 6) },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: RESULTS_DIR },
  },
});
const settings = {
  seconds: Number(values.seconds ?? (values.quick ? 3 : 10)),
  warmupSeconds: Number(values['warmup-seconds'] ?? (values.quick ? 1 : 3)),
  connections: Number(values.connections),
};
const cores = {
  proxy: coreSet(values['proxy-cores']),
  load: coreSet(values['load-cores']),
  backend: coreSet(values['backend-cores']),
};
const one = firstCores(cores.proxy, 1);
const n = cores.proxy.cores.length;
installCleanup();

interface PathSpec {
  title: string;
  cores: CoreSet;
  start(backendUrl: string): Promise<{ url: string; procs: Pinned[] }>;
}
const meshd = (workers: number, set: CoreSet) => async (backendUrl: string) => {
  const m = await startMeshd({ cores: set, workers, backendUrl });
  return { url: m.url, procs: [m] };
};
const paths: PathSpec[] = [
  { title: 'meshd, 1 worker', cores: one, start: meshd(1, one) },
  { title: `meshd, ${n} workers`, cores: cores.proxy, start: meshd(n, cores.proxy) },
  {
    title: 'bare proxy, 1 process',
    cores: one,
    start: (url) => startBareProxy({ n: 1, mode: 'processes', cores: one, backendUrl: url }),
  },
  {
    title: `bare proxy, ${n} processes`,
    cores: cores.proxy,
    start: (url) => startBareProxy({ n, mode: 'processes', cores: cores.proxy, backendUrl: url }),
  },
  {
    title: `bare proxy, ${n} threads of one process`,
    cores: cores.proxy,
    start: (url) => startBareProxy({ n, mode: 'threads', cores: cores.proxy, backendUrl: url }),
  },
];

/** CPU seconds by thread name over every process of a path. */
function threadsOf(procs: Pinned[]): Map<string, number> {
  const sum = new Map<string, number>();
  for (const p of procs)
    for (const [name, s] of threadCpuSeconds(p.pid)) sum.set(name, (sum.get(name) ?? 0) + s);
  return sum;
}

const backend = await startStaticBackend(cores.backend, await freePort());
const body = chatRequestBody();
const rows: Array<{
  path: string;
  cores: string;
  requestsPerSecond: number;
  coresUsed: number;
  cpuMicrosPerRequest: number;
  threads: Record<string, number>;
}> = [];
try {
  for (const spec of paths) {
    const started = await spec.start(backend.url);
    const load = { url: `${started.url}/v1/chat/completions`, cores: cores.load, body };
    await runWrk({ ...load, connections: settings.connections, seconds: settings.warmupSeconds });
    const cpu = startCpuMeter(started.procs.map((p) => p.pid));
    const before = threadsOf(started.procs);
    const wrk = await runWrk({ ...load, connections: settings.connections, seconds: settings.seconds });
    const used = cpu.stop();
    const after = threadsOf(started.procs);
    for (const p of started.procs) await p.stop();
    const threads: Record<string, number> = {};
    for (const [name, s] of after) threads[name] = (s - (before.get(name) ?? 0)) / used.wallSeconds;
    const row = {
      path: spec.title,
      cores: spec.cores.list,
      requestsPerSecond: wrk.requestsPerSecond,
      coresUsed: used.cores,
      cpuMicrosPerRequest: (used.cores * 1e6) / wrk.requestsPerSecond,
      threads,
    };
    rows.push(row);
    process.stdout.write(
      `  ${row.path}: ${int(row.requestsPerSecond)} req/s, ${fmt(row.cpuMicrosPerRequest, 1)} CPU µs/req\n`,
    );
  }
} finally {
  await stopAll();
}

const machine = describeMachine({ nginx: ['nginx', ['-v']], wrk: ['wrk', ['-v']] });
const report = { date: new Date().toISOString(), machine, command: commandLine(), settings, cores, rows };
const threadCell = (t: Record<string, number>) =>
  Object.entries(t)
    .filter(([, c]) => c >= 0.01)
    .map(([name, c]) => `${name} ${fmt(c)}`)
    .join(', ');
const md = `# Router threads: CPU per request and where it goes

- date: ${report.date}
- machine: ${machineLine(machine)}
- command: \`${report.command}\`
- cores (\`taskset -c\`): proxies ${cores.proxy.list}, wrk ${cores.load.list}, backend ${cores.backend.list}
- load: wrk closed loop, ${settings.connections} connections, ${settings.seconds} s after a ${settings.warmupSeconds} s warm-up; same backend and request as bench:router

"threads" = cores used by each kind of thread over the run (summed over threads of that name).

${table(
  ['path', 'cores', 'req/s', 'cores used', 'CPU µs/req', 'threads'],
  rows.map((r) => [
    r.path,
    r.cores,
    int(r.requestsPerSecond),
    fmt(r.coresUsed),
    fmt(r.cpuMicrosPerRequest, 1),
    threadCell(r.threads),
  ]),
)}
`;
const files = writeResults(values.out, values.quick ? 'router-threads-quick' : 'router-threads', report, md);
process.stdout.write(`\n${md}\nwrote ${files.join(', ')}\n`);
