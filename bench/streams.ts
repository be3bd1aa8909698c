/**
 * Streams: many concurrent SSE chat-completion streams through one meshd, against the same streams
 * sent straight to the backend in the same run, every process pinned with `taskset`; then a drain:
 * SIGTERM to meshd with streams open.
 *
 *   npm run bench:streams                      # 10,000 streams × 200 tokens at 7 tokens/s, then the drain
 *   npm run bench:streams -- --quick           # 500 streams × 20 tokens, a small drain: any machine
 *   npm run bench:streams -- --drain           # the drain scenario only
 *
 * The backend (backends/sse-backend.ts) runs one reusePort process per backend core and streams
 * each request's `max_tokens` tokens at `--rate` per second, so it is never the bottleneck. The
 * client (backends/stream-client.ts, one process per client core) opens the streams evenly over the
 * ramp, one connection each, and records per stream its TTFB (first body byte), events, and how
 * it ended. Phases: direct to the backend; through meshd (roles router + gpu, the backend as its
 * one vLLM runtime, `router.workers` on the meshd cores, admission off: one endpoint carrying
 * 10,000 streams would otherwise be refused as overloaded), with meshd's RSS sampled (peak) and
 * its CPU time read from /proc, which gives chunks relayed per second and per CPU-second ("per
 * core", at the load offered, so partly idle); relay capacity: meshd with one worker on one core,
 * offered more chunks than it can relay (a second backend at `--capacity-rate`), which gives what
 * a saturated core relays per CPU-second; drain: a fresh meshd with `router.drainTimeoutMs`,
 * `--drain-streams` streams open,
 * alternately short (they end within the drain timeout) and long (they would not), SIGTERM once
 * all are open, then which streams finished, which were cut and how, meshd's exit code and time
 * to exit. The run needs `ulimit -n` of about 3 × streams.
 *
 * Flags: `--streams` (10000), `--tokens` (200), `--rate` (7 tokens/s), `--workers` (the meshd cores'
 * count), `--ramp-seconds` (streams ÷ 1000, at least 2), `--drain` (only the drain), `--no-drain`,
 * `--drain-streams` (1000), `--drain-timeout-ms` (10000), `--no-capacity`, `--capacity-streams`
 * (2000), `--capacity-rate` (60 tokens/s), `--capacity-tokens` (600), `--meshd-cores`, `--client-cores`,
 * `--backend-cores` (`taskset -c` lists; defaults: the usable cores' positions 0-3, 4-7, 8-13 on a
 * machine with 16 or more, all cores shared below that), `--quick`, `--out DIR` (bench/results).
 * Results: `streams{-quick}.{md,json}`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { coreSet, defaultCores, firstCores, overlaps, type CoreSet } from './lib/cores.ts';
import { commandLine, describeMachine } from './lib/machine.ts';
import { startMeshd } from './lib/meshd.ts';
import { freePort } from './lib/ports.ts';
import { installCleanup, spawnPinned, stopAll, type Pinned } from './lib/procs.ts';
import { RESULTS_DIR, writeResults } from './lib/report.ts';
import { runStreamPhase, summarize } from './lib/stream-phase.ts';
import { drainSummary, streamsMarkdown, streamsTargets, type PhaseReport } from './lib/streams-report.ts';

const { values } = parseArgs({
  options: {
    streams: { type: 'string' },
    tokens: { type: 'string' },
    rate: { type: 'string', default: '7' },
    workers: { type: 'string' },
    'ramp-seconds': { type: 'string' },
    drain: { type: 'boolean', default: false },
    'no-drain': { type: 'boolean', default: false },
    'drain-streams': { type: 'string' },
    'drain-timeout-ms': { type: 'string' },
    'no-capacity': { type: 'boolean', default: false },
    'capacity-streams': { type: 'string' },
    'capacity-rate': { type: 'string' },
    'capacity-tokens': { type: 'string' },
    'meshd-cores': { type: 'string', default: defaultCores(0, 4) },
    'client-cores': { type: 'string', default: defaultCores(4, 4) },
    'backend-cores': { type: 'string', default: defaultCores(8, 6) },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: RESULTS_DIR },
  },
});
const quick = values.quick;
const cores = {
  meshd: coreSet(values['meshd-cores']),
  clients: coreSet(values['client-cores']),
  backend: coreSet(values['backend-cores']),
};
const streams = Number(values.streams ?? (quick ? 500 : 10_000));
const settings = {
  streams,
  tokens: Number(values.tokens ?? (quick ? 20 : 200)),
  rate: Number(values.rate),
  workers: Number(values.workers ?? cores.meshd.cores.length),
  rampSeconds: Number(values['ramp-seconds'] ?? Math.max(2, streams / 1000)),
  clients: cores.clients.cores.length,
  streamPhases: !values.drain,
  drain: !values['no-drain'],
  drainStreams: Number(values['drain-streams'] ?? (quick ? 200 : 1000)),
  drainTimeoutMs: Number(values['drain-timeout-ms'] ?? (quick ? 4000 : 10_000)),
  capacity: !values['no-capacity'] && !values.drain,
  capacityStreams: Number(values['capacity-streams'] ?? (quick ? 300 : 2000)),
  capacityRate: Number(values['capacity-rate'] ?? (quick ? 40 : 60)),
  capacityTokens: Number(values['capacity-tokens'] ?? (quick ? 120 : 600)),
};
const sharedCores =
  overlaps(cores.meshd, cores.clients) ||
  overlaps(cores.meshd, cores.backend) ||
  overlaps(cores.clients, cores.backend);

installCleanup();
warnOnFdLimit(Math.max(settings.streamPhases ? streams : 0, settings.drainStreams));

/** meshd holds two sockets per stream; the soft fd limit children inherit must allow that. */
function warnOnFdLimit(n: number): void {
  const soft = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
  if (Number.isFinite(soft) && soft < 2 * n + 1000)
    process.stderr.write(
      `warning: the fd limit (${soft}) is below what ${n} streams need; run under ulimit -n\n`,
    );
}

async function startBackend(set: CoreSet, rate: number): Promise<{ url: string; procs: Pinned[] }> {
  const port = await freePort();
  const procs: Pinned[] = [];
  for (let i = 0; i < set.cores.length; i++) {
    procs.push(
      await spawnPinned({
        name: `sse-backend ${i}`,
        cores: set,
        command: process.execPath,
        args: ['bench/backends/sse-backend.ts', '--port', String(port), '--rate', String(rate)],
        cwd: new URL('..', import.meta.url).pathname,
        ready: 'listening on',
        stdin: 'pipe',
      }),
    );
  }
  return { url: `http://127.0.0.1:${port}`, procs };
}

const streamSeconds = settings.tokens / settings.rate;
const phaseDeadlineMs = (settings.rampSeconds + streamSeconds + 30) * 1000;
process.stdout.write(
  `streams: ${streams} × ${settings.tokens} tokens at ${settings.rate}/s (${streamSeconds.toFixed(1)} s each, ` +
    `ramp ${settings.rampSeconds} s); meshd cores ${cores.meshd.list} (workers ${settings.workers}), clients ` +
    `${cores.clients.list}, backend ${cores.backend.list}${sharedCores ? ' (SHARED: smoke test only)' : ''}\n`,
);

const backend = await startBackend(cores.backend, settings.rate);
const backendPids = backend.procs.map((p) => p.pid);
const phases: PhaseReport[] = [];
let drain: ReturnType<typeof drainSummary> | undefined;
try {
  if (settings.streamPhases) {
    for (const via of ['direct', 'meshd'] as const) {
      const meshd =
        via === 'meshd'
          ? await startMeshd({
              cores: cores.meshd,
              workers: settings.workers,
              backendUrl: backend.url,
              admission: false,
            })
          : undefined;
      const phase = await runStreamPhase({
        url: meshd?.url ?? backend.url,
        streams,
        rampMs: settings.rampSeconds * 1000,
        tokens: [settings.tokens],
        deadlineMs: phaseDeadlineMs,
        clients: settings.clients,
        clientCores: cores.clients,
        targetPids: meshd ? [meshd.pid] : [],
        backendPids,
      });
      const meshdExit = meshd ? await meshd.stop('SIGINT') : undefined;
      const summary = summarize(phase.records);
      phases.push({ via, summary, phase: { ...phase, records: [] }, ...(meshd ? { meshdExit } : {}) });
      process.stdout.write(
        `  ${via}: ${summary.completedPct.toFixed(2)}% done, ${summary.resets} resets, TTFB p50 ` +
          `${summary.ttfbMs.p50?.toFixed(1)} ms p99 ${summary.ttfbMs.p99?.toFixed(1)} ms, ${summary.chunks} chunks` +
          (meshd
            ? `, meshd ${phase.target.cores.toFixed(2)} cores, peak RSS ${(phase.target.peakRssBytes / 2 ** 20).toFixed(0)} MiB`
            : '') +
          '\n',
      );
    }
  }
  if (settings.capacity) phases.push(await runCapacity());
  if (settings.drain) drain = await runDrain();
} finally {
  await stopAll();
}

/**
 * Relay capacity: meshd with one worker pinned to one core, offered more SSE chunks per second than
 * one core can relay (a second backend at the capacity rate), so what it delivers per CPU-second is
 * its ceiling, not the offered load.
 */
async function runCapacity(): Promise<PhaseReport> {
  const fast = await startBackend(cores.backend, settings.capacityRate);
  const one = firstCores(cores.meshd, 1);
  const meshd = await startMeshd({ cores: one, workers: 1, backendUrl: fast.url, admission: false });
  const phase = await runStreamPhase({
    url: meshd.url,
    streams: settings.capacityStreams,
    rampMs: 2000,
    tokens: [settings.capacityTokens],
    deadlineMs: (settings.capacityTokens / settings.capacityRate) * 3000 + 60_000,
    clients: settings.clients,
    clientCores: cores.clients,
    targetPids: [meshd.pid],
    backendPids: fast.procs.map((p) => p.pid),
  });
  const meshdExit = await meshd.stop('SIGINT');
  for (const p of fast.procs) await p.stop();
  const summary = summarize(phase.records);
  process.stdout.write(
    `  capacity (1 worker, 1 core): ${summary.completedPct.toFixed(2)}% done, ${summary.chunks} chunks in ` +
      `${phase.wallSeconds.toFixed(1)} s, meshd ${phase.target.cores.toFixed(2)} cores, ` +
      `${Math.round(summary.chunks / Math.max(1e-9, phase.target.cpuSeconds))} chunks per CPU-s\n`,
  );
  return { via: 'capacity', summary, phase: { ...phase, records: [] }, meshdExit };
}

/**
 * The drain scenario: SIGTERM to a meshd carrying short and long streams. With the ramp R, the
 * SIGTERM at T ∈ [R + 1, R + 1.5] s and the drain timeout D, a short stream (started in [0, R])
 * lasts between R + 1.5 and D + 1 s, so it is open at the SIGTERM and due before T + D; a long one
 * outlasts T + D by at least 5 s.
 */
async function runDrain() {
  const { drainTimeoutMs, rate } = settings;
  const rampMs = Math.max(1000, Math.min(5000, settings.drainStreams * 2));
  const shortSeconds = (rampMs / 1000 + 1.5 + drainTimeoutMs / 1000 + 1) / 2;
  const longSeconds = rampMs / 1000 + 1.5 + drainTimeoutMs / 1000 + Math.max(5, drainTimeoutMs / 2000);
  const shortTokens = Math.ceil(shortSeconds * rate);
  const longTokens = Math.ceil(longSeconds * rate);
  const meshd = await startMeshd({
    cores: cores.meshd,
    workers: settings.workers,
    backendUrl: backend.url,
    admission: false,
    router: { drainTimeoutMs },
  });
  const exited = meshd.exited.then((code) => ({ code, at: Date.now() }));
  let sigtermAt: number | undefined;
  const phase = await runStreamPhase({
    url: meshd.url,
    streams: settings.drainStreams,
    rampMs,
    tokens: [shortTokens, longTokens],
    deadlineMs: rampMs + longSeconds * 1000 + 30_000,
    clients: settings.clients,
    clientCores: cores.clients,
    targetPids: [meshd.pid],
    backendPids,
    onAllOpened: () => {
      // A second after the last stream opened, every stream has had its first token.
      setTimeout(() => {
        sigtermAt = Date.now();
        meshd.child.kill('SIGTERM');
        // Bounded: a meshd still running 15 s after its drain timeout is killed, and the report says so.
        const killTimer = setTimeout(() => meshd.child.kill('SIGKILL'), drainTimeoutMs + 15_000);
        void meshd.exited.then(() => clearTimeout(killTimer));
      }, 1000);
    },
  });
  if (sigtermAt === undefined) meshd.child.kill('SIGKILL');
  const end = await exited;
  const summary = drainSummary(phase.records, {
    streams: settings.drainStreams,
    shortTokens,
    longTokens,
    drainTimeoutMs,
    sigtermAt,
    exit: sigtermAt === undefined ? undefined : { code: end.code, afterMs: end.at - sigtermAt },
  });
  process.stdout.write(
    `  drain: short streams done ${summary.short.done}/${summary.short.total}, long: ${JSON.stringify(summary.long.outcomes)}, ` +
      `meshd exit ${summary.exit?.code ?? 'none'} after ${summary.exit?.afterMs ?? '–'} ms\n`,
  );
  return summary;
}

const machine = describeMachine({ taskset: ['taskset', ['--version']] });
const sysctl = (name: string) => {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8')
      .trim()
      .replace(/\s+/g, ' ');
  } catch {
    return 'unknown';
  }
};
const report = {
  date: new Date().toISOString(),
  machine,
  command: commandLine(),
  settings,
  cores: {
    meshd: cores.meshd.list,
    clients: cores.clients.list,
    backend: cores.backend.list,
    shared: sharedCores,
  },
  system: {
    fdLimit: /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 'unknown',
    somaxconn: sysctl('net.core.somaxconn'),
    ipLocalPortRange: sysctl('net.ipv4.ip_local_port_range'),
  },
  phases,
  drain,
  targets: streamsTargets(phases, drain, settings),
};
const md = streamsMarkdown(report);
const files = writeResults(values.out, quick ? 'streams-quick' : 'streams', report, md);
process.stdout.write(`\n${md}\nwrote ${files.join(', ')}\n`);
