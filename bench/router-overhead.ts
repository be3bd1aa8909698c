/**
 * Router overhead: what meshd's router costs per request, against a bare Node proxy and (with
 * `--vs nginx`) nginx as a real reverse proxy, all in one run, every process pinned to its own
 * cores with `taskset`.
 *
 *   npm run bench:router -- --vs nginx                 # the full run (a 16-core machine)
 *   npm run bench:router -- --quick                    # a smoke test on any machine
 *
 * One static backend (nginx, one worker per backend core, `return 200` of a fixed ~1 KB
 * chat.completion, plus `/v1/models`, `/metrics` and `/health` so meshd's gpu role scrapes it as
 * vLLM) serves every path, so it is never the bottleneck. wrk (closed loop, `POST
 * /v1/chat/completions`) measures, per path: direct to the backend; nginx proxy with 1 worker on
 * 1 core and 4 workers on 4 cores; the bare proxy (`baselines/bare-proxy.ts`: node:http in, undici
 * out) as 1 process on 1 core and 4 reusePort processes on 4 cores; meshd (roles router + gpu, the
 * backend as its one runtime endpoint) with `router.workers: auto` on 1 core and on 4 cores, and
 * with 3 workers on 4 cores. Each path gets a fresh process, a warm-up, then the measured run; the CPU time of its
 * processes over the run gives the cores it used. Then "added latency": direct, bare and meshd
 * again at a paced ~1,000 req/s (not saturated), p50/p99 against direct.
 *
 * Flags: `--vs nginx`, `--seconds N` (15), `--connections N` (64), `--warmup-seconds N` (3),
 * `--rate N` (1000) and `--latency-seconds N` (15) for the paced runs, `--proxy-cores`,
 * `--backend-cores`, `--load-cores` (`taskset -c` lists; defaults: the usable cores' positions
 * 0-3, 8-13 and 4-7 on a machine with 16 or more, all cores shared below that), `--quick` (3 s
 * runs, 1 s warm-up), `--out DIR` (bench/results). Needs `nginx` and `wrk` on PATH.
 * Results: `router-overhead{-quick}.{md,json}`.
 */
import { setTimeout } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startBareProxy } from './lib/bare.ts';
import { coreSet, defaultCores, firstCores, overlaps, type CoreSet } from './lib/cores.ts';
import { chatRequestBody } from './lib/fake-vllm.ts';
import { commandLine, describeMachine } from './lib/machine.ts';
import { startMeshd } from './lib/meshd.ts';
import { startNginxProxy, startStaticBackend } from './lib/nginx.ts';
import { freePort } from './lib/ports.ts';
import { startCpuMeter } from './lib/proc-stats.ts';
import { installCleanup, stopAll, type Pinned } from './lib/procs.ts';
import { RESULTS_DIR, writeResults } from './lib/report.ts';
import { runWrk } from './lib/wrk.ts';
import { overheadMarkdown, overheadTargets, type PathRun } from './lib/overhead-report.ts';

const { values } = parseArgs({
  options: {
    vs: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '64' },
    'warmup-seconds': { type: 'string' },
    rate: { type: 'string', default: '1000' },
    'latency-seconds': { type: 'string' },
    'latency-connections': { type: 'string', default: '32' },
    'proxy-cores': { type: 'string', default: defaultCores(0, 4) },
    'load-cores': { type: 'string', default: defaultCores(4, 4) },
    'backend-cores': { type: 'string', default: defaultCores(8, 6) },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: RESULTS_DIR },
  },
});
if (values.vs !== undefined && values.vs !== 'nginx') throw new Error('--vs takes only "nginx"');
const quick = values.quick;
const settings = {
  vsNginx: values.vs === 'nginx',
  seconds: Number(values.seconds ?? (quick ? 3 : 15)),
  warmupSeconds: Number(values['warmup-seconds'] ?? (quick ? 1 : 3)),
  connections: Number(values.connections),
  rate: Number(values.rate),
  latencySeconds: Number(values['latency-seconds'] ?? (quick ? 3 : 15)),
  latencyConnections: Number(values['latency-connections']),
};
const cores = {
  proxy: coreSet(values['proxy-cores']),
  load: coreSet(values['load-cores']),
  backend: coreSet(values['backend-cores']),
};
const oneCore = firstCores(cores.proxy, 1);
const body = chatRequestBody();

installCleanup();

/** A path under test: how to start its proxy (none for direct), and whether it gets a paced run too. */
interface PathSpec {
  id: string;
  title: string;
  cores?: CoreSet;
  paced: boolean;
  start(backendUrl: string, backendPort: number): Promise<{ url: string; procs: Pinned[] }>;
}

const four = cores.proxy;
const paths: PathSpec[] = [
  { id: 'direct', title: 'direct to backend', paced: true, start: async (url) => ({ url, procs: [] }) },
  ...(settings.vsNginx
    ? [
        {
          id: 'nginx-1',
          title: 'nginx proxy, 1 worker',
          cores: oneCore,
          paced: true,
          start: async (_: string, port: number) => {
            const p = await startNginxProxy(oneCore, await freePort(), port);
            return { url: p.url, procs: [p] };
          },
        },
        {
          id: 'nginx-4',
          title: `nginx proxy, ${four.cores.length} workers`,
          cores: four,
          paced: false,
          start: async (_: string, port: number) => {
            const p = await startNginxProxy(four, await freePort(), port);
            return { url: p.url, procs: [p] };
          },
        },
      ]
    : []),
  {
    id: 'bare-1',
    title: 'bare Node proxy, 1 process',
    cores: oneCore,
    paced: true,
    start: (url) => startBareProxy({ n: 1, mode: 'processes', cores: oneCore, backendUrl: url }),
  },
  {
    id: 'bare-4',
    title: `bare Node proxy, ${four.cores.length} processes (reusePort)`,
    cores: four,
    paced: false,
    start: (url) => startBareProxy({ n: four.cores.length, mode: 'processes', cores: four, backendUrl: url }),
  },
  {
    id: 'meshd-1',
    title: 'meshd, workers auto (1) on 1 core',
    cores: oneCore,
    paced: true,
    start: async (url) => {
      const m = await startMeshd({ cores: oneCore, workers: 'auto', backendUrl: url });
      return { url: m.url, procs: [m] };
    },
  },
  {
    id: 'meshd-4',
    title: `meshd, workers auto (${four.cores.length}) on ${four.cores.length} cores`,
    cores: four,
    paced: true,
    start: async (url) => {
      const m = await startMeshd({ cores: four, workers: 'auto', backendUrl: url });
      return { url: m.url, procs: [m] };
    },
  },
  {
    // Whether a core left to the main thread and V8's helper threads would relay more.
    id: 'meshd-4-less',
    title: `meshd, workers ${four.cores.length - 1} on ${four.cores.length} cores`,
    cores: four,
    paced: false,
    start: async (url) => {
      const m = await startMeshd({ cores: four, workers: four.cores.length - 1, backendUrl: url });
      return { url: m.url, procs: [m] };
    },
  },
];

const machine = describeMachine({
  nginx: ['nginx', ['-v']],
  wrk: ['wrk', ['-v']],
  taskset: ['taskset', ['--version']],
});
const sharedCores =
  overlaps(cores.proxy, cores.load) ||
  overlaps(cores.proxy, cores.backend) ||
  overlaps(cores.load, cores.backend);
const perPath = settings.warmupSeconds + settings.seconds;
const estimate =
  paths.length * (perPath + 3) + paths.filter((p) => p.paced).length * (settings.latencySeconds + 2);
process.stdout.write(
  `router overhead: ${paths.length} paths, about ${Math.round(estimate)} s; proxy cores ${cores.proxy.list}, ` +
    `load (wrk) ${cores.load.list}, backend ${cores.backend.list}${sharedCores ? ' (SHARED: smoke test only)' : ''}\n`,
);

const backendPort = await freePort();
const backend = await startStaticBackend(cores.backend, backendPort);
const runs: PathRun[] = [];
try {
  for (const spec of paths) {
    const started = await spec.start(backend.url, backendPort);
    const url = `${started.url}/v1/chat/completions`;
    const pids = started.procs.map((p) => p.pid);
    const load = { url, cores: cores.load, body };
    await runWrk({ ...load, connections: settings.connections, seconds: settings.warmupSeconds });

    const measure = async (opts: { connections: number; seconds: number; rate?: number }) => {
      const proxyCpu = startCpuMeter(pids);
      const backendCpu = startCpuMeter([backend.pid]);
      const wrk = await runWrk({ ...load, ...opts });
      return { wrk, proxyCpu: proxyCpu.stop(), backendCpu: backendCpu.stop() };
    };
    const throughput = await measure({ connections: settings.connections, seconds: settings.seconds });
    // A pause after saturation, so the paced run does not start in the throughput run's backlog or GC.
    if (spec.paced) await setTimeout(2_000);
    const paced = spec.paced
      ? await measure({
          connections: settings.latencyConnections,
          seconds: settings.latencySeconds,
          rate: settings.rate,
        })
      : undefined;
    for (const p of started.procs) await p.stop();
    const run: PathRun = {
      id: spec.id,
      title: spec.title,
      cores: spec.cores?.list ?? '',
      coreCount: spec.cores?.cores.length ?? 0,
      throughput,
      ...(paced ? { paced } : {}),
    };
    runs.push(run);
    const t = throughput.wrk;
    process.stdout.write(
      `  ${spec.title}: ${Math.round(t.requestsPerSecond)} req/s, p50 ${t.latencyMs.p50} ms, p99 ${t.latencyMs.p99} ms, ` +
        `proxy cores used ${throughput.proxyCpu.cores.toFixed(2)}` +
        (paced
          ? `; at ${Math.round(paced.wrk.requestsPerSecond)} req/s p50 ${paced.wrk.latencyMs.p50} ms, p99 ${paced.wrk.latencyMs.p99} ms`
          : '') +
        '\n',
    );
  }
} finally {
  await stopAll();
}

const coreLists = {
  proxy: cores.proxy.list,
  load: cores.load.list,
  backend: cores.backend.list,
  shared: sharedCores,
};
const report = {
  date: new Date().toISOString(),
  machine,
  command: commandLine(),
  settings,
  cores: coreLists,
  workload: {
    request: `POST /v1/chat/completions, ${body.length}-byte JSON body, not streamed`,
    answer: 'fixed ~1 KB chat.completion JSON from nginx `return 200`',
  },
  runs,
  targets: overheadTargets(runs, settings, coreLists),
};
const md = overheadMarkdown(report);
const files = writeResults(values.out, quick ? 'router-overhead-quick' : 'router-overhead', report, md);
process.stdout.write(`\n${md}\nwrote ${files.join(', ')}\n`);
