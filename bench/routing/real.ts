/**
 * `npm run bench:routing -- --mode real [--quick] [--trace FILE ...] [--out DIR] [--time-scale S]
 * [--sims N] [--requests N] [--loads 0.5,0.8] [--strategies a,b] [--admission] [--scrape-ms 1000]
 * [--routers N [--router-workers W]]`
 *
 * Mode (a) of the routing benchmark: the traces replayed over HTTP through the real router
 * process (meshd, roles router + gpu, scraping the simulators as it would vLLM) in front of a
 * heterogeneous fleet of simulator processes (H100 and A100 profiles), every strategy in the same
 * run, fresh processes (cold caches) for every (load, strategy). Simulators run `S` times faster
 * than real time and arrivals are compressed by the same `S`, so load ratios hold; every latency
 * is reported in simulated time (wall × S). Results: bench/results/routing-real{-quick}.{json,md}.
 *
 * `--routers N`: active-active routers. The fleet is then one meshd with role gpu and separate
 * router processes following it, the client spreading requests round robin over them, and every
 * (load, strategy) runs three setups: 1 router, N routers relaying their routing through the
 * gpu node (`router.shareInFlight`, the default) and N routers not sharing it. The report adds a
 * table of TTFT p50/p99 per setup and the N-router ÷ 1-router ratios (target: p99 within 10%).
 * Results: bench/results/routing-real-routers{-quick}.{json,md}.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fleetCapacity, gpuSpec, requestGpuMs, type EndpointSpec } from './capacity.ts';
import { sloCapacity } from './capacity-slo.ts';
import { scrapeMsFor, LLM_D_SCRAPE_MS } from './virtual-unit.ts';
import { SLO, summarise } from './metrics.ts';
import { REAL_MODEL, startRealFleet, stopAllChildren } from './real-fleet.ts';
import { requestBodies, runLoad } from './real-load.ts';
import { renderRealMarkdown, type RealRunRow } from './real-report.ts';
import { toSummaryRecords } from './real-summary.ts';
import { describeCode, snapshotCode } from './real-snapshot.ts';
import {
  CLIENT_MAX_TOKEN_CAPS,
  describeArrivals,
  loadTrace,
  sampleRequests,
  type Trace,
  type TraceRequest,
} from './traces.ts';

export interface RealOptions {
  traces: readonly string[];
  quick: boolean;
  /** `--requests` as given (per trace); default 300 quick, 1,000 full. */
  requests?: string;
  /** `--repeat` as given: runs of each (trace, load, strategy), 2 for the repeatability check; default 1. */
  repeat?: string;
  loads: readonly number[];
  strategies: readonly string[];
  seed: number;
  out: string;
  admission: boolean;
  /** Scrape interval in simulated ms. */
  scrapeMs: number;
  /** `--time-scale` as given; default: chosen per trace (see `autoTimeScale`). */
  timeScale?: string;
  /** `--sims` as given: simulator processes (alternating H100, A100); default 4. */
  sims?: string;
  /** `--routers` as given: active-active routers, compared with one (see above). */
  routers?: string;
  /** `--router-workers` as given: `router.workers` of each router process. */
  routerWorkers?: string;
  /** `--bursts`: Mooncake's buckets as recorded (traces.ts). */
  bursts: boolean;
  command: string;
}

/** Simulated latency limit of one request; the wall limit is this ÷ S. */
const REQUEST_LIMIT_SIM_MS = 600_000;
/** Client-side bound on requests in flight. */
const MAX_CONCURRENCY = 512;
/**
 * Output tokens per wall second the machine is asked to stream through router and client at 95%
 * load. Each token is one SSE chunk relayed by meshd and parsed by the client, so past this the
 * benchmark measures this machine's CPUs, not routing (2 shared cores here).
 */
const WALL_TOKENS_PER_S = 25_000;
/**
 * Simulated ms one wall ms may stand for, as a fraction of the mean prefill: client, router and
 * OS scheduling add wall-clock delays of a few ms on a busy machine, and each becomes S simulated
 * ms. With S = mean prefill ÷ 100, 1 wall ms is at most 1% of a mean prefill.
 */
const PREFILL_MS_PER_S = 100;

/** The run's fleet: `n` simulators alternating H100 and A100, GPU-sized as the virtual mode's. */
export function realFleet(n: number): EndpointSpec[] {
  return Array.from({ length: n }, (_, i) => gpuSpec(i % 2 === 0 ? 'h100' : 'a100'));
}

/**
 * The time scale for a trace on a fleet: mean prefill (simulated ms, averaged over the fleet's
 * GPUs) ÷ 100, and no more than keeps the streamed tokens per wall second at 95% load under
 * budget; clamped to [1, 50]. Mooncake's 14k-token prompts allow about 8; Azure's 1k-token
 * prompts (prefill 25–70 ms) get 1, since at 2 the client-side TTFT already doubled in trials.
 */
export function autoTimeScale(fleet: readonly EndpointSpec[], requests: readonly TraceRequest[]): number {
  const n = requests.length || 1;
  const meanIn = requests.reduce((a, r) => a + r.inputTokens, 0) / n;
  const meanOut = requests.reduce((a, r) => a + r.outputTokens, 0) / n;
  const prefillMs = fleet.reduce((a, spec) => a + requestGpuMs(spec, meanIn, 0), 0) / fleet.length;
  const byJitter = prefillMs / PREFILL_MS_PER_S;
  const byTokens = WALL_TOKENS_PER_S / (0.95 * fleetCapacity(fleet, requests) * meanOut);
  return Math.max(1, Math.min(50, Math.floor(Math.min(byJitter, byTokens))));
}

const fleet0 = (n: number) =>
  [...new Map(realFleet(n).map((s) => [s.gpu, s])).values()]
    .map(
      (s) =>
        `${s.gpu.toUpperCase()} ${s.maxNumSeqs} seqs, ${s.maxNumBatchedTokens} tokens/step, ${s.kvBlocks} KV blocks`,
    )
    .join('; ');

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);

/** Whether the router passes request hints (prompt blocks, sizes) to scoring, read from its source. */
function routerHintsWired(codeRoot: string): boolean {
  const src = readFileSync(join(codeRoot, 'src/data/router-server.ts'), 'utf8');
  return /requestHints\(/.test(src);
}

/** One router setup of a run: absent `routers`, the single meshd with roles router + gpu. */
export interface RouterSetup {
  label: string;
  routers?: number;
  share?: boolean;
}

/** The setups `--routers N` compares: one router, N sharing in-flight work, N not sharing it. */
export function routerSetups(n: number | undefined): RouterSetup[] {
  if (n === undefined) return [{ label: '' }];
  return [
    { label: '1 router', routers: 1, share: true },
    { label: `${n} routers, shared`, routers: n, share: true },
    { label: `${n} routers, not shared`, routers: n, share: false },
  ];
}

/** `router.workers` per router process: the machine's cores over the routers and the gpu node. */
export function defaultRouterWorkers(n: number): number {
  return Math.max(1, Math.floor(availableParallelism() / (n + 1)));
}

async function runTrace(
  trace: Trace,
  o: RealOptions,
  count: number,
  sims: number,
  codeRoot: string,
): Promise<RealRunRow[]> {
  const requests = sampleRequests(trace, count, o.seed);
  const fleet = realFleet(sims);
  // Capacity under the SLO, searched in virtual mode on the same fleet and requests (real runs are
  // too slow to search with); loads are fractions of it, as in the virtual mode.
  const cap = sloCapacity({
    bySeed: new Map([[o.seed, requests]]),
    fleet,
    baseline: 'least-outstanding',
    scrapeIntervalMs: o.scrapeMs,
  });
  const capacity = cap.rps;
  console.error(`${trace.name}: capacity under the SLO (virtual search) ${capacity.toFixed(2)} req/s`);
  const S = o.timeScale ? Number(o.timeScale) : autoTimeScale(fleet, requests);
  const spanMs = requests[requests.length - 1]!.arrivalMs || 1;
  const traceRps = requests.length / (spanMs / 1000);
  const bodies = requestBodies(REAL_MODEL, requests);
  const rows: RealRunRow[] = [];
  for (const load of o.loads) {
    const offered = load * capacity;
    // Simulated arrival = trace arrival × traceRps/offered; wall = simulated ÷ S.
    const toWall = traceRps / offered / S;
    const sendAtMs = requests.map((r) => r.arrivalMs * toWall);
    const routersN = o.routers ? Number(o.routers) : undefined;
    const routerWorkers = o.routerWorkers
      ? Number(o.routerWorkers)
      : routersN
        ? defaultRouterWorkers(routersN)
        : undefined;
    for (const strategy of o.strategies)
      for (const setup of routerSetups(routersN))
        for (let repeat = 0; repeat < Number(o.repeat ?? 1); repeat++) {
          const t0 = performance.now();
          const scrapeIntervalMs = scrapeMsFor(strategy, o.scrapeMs);
          const mesh = await startRealFleet({
            fleet,
            timeScale: S,
            seed: o.seed,
            profile: strategy,
            scrapeIntervalMs,
            admission: o.admission,
            requestTimeoutMs: Math.ceil(REQUEST_LIMIT_SIM_MS / S),
            codeRoot,
            routers: setup.routers,
            shareInFlight: setup.share,
            routerWorkers,
          });
          try {
            const before = await mesh.counters();
            const ran = await runLoad({
              routerUrl: mesh.routerUrl,
              routerUrls: mesh.routerUrls,
              bodies,
              sendAtMs,
              maxConcurrency: MAX_CONCURRENCY,
              timeoutMs: Math.ceil(REQUEST_LIMIT_SIM_MS / S),
            });
            const after = await mesh.counters();
            const queries = after.prefixQueries - before.prefixQueries;
            const hitRate = queries > 0 ? (after.prefixHits - before.prefixHits) / queries : 0;
            const s = toSummaryRecords(ran.records, mesh.endpointIds, S);
            const offeredMs = ((sendAtMs.at(-1) ?? 0) - (sendAtMs[0] ?? 0)) * S;
            const summary = summarise(s.records, { makespanMs: ran.makespanMs * S, offeredMs }, hitRate);
            const total = ran.records.length;
            const row: RealRunRow = {
              trace: trace.name,
              load,
              endpoints: sims,
              strategy,
              ...(setup.label ? { setup: setup.label } : {}),
              repeat,
              scrapeIntervalMs,
              offeredRps: offered,
              // Patched so failures count as requests that missed the SLO.
              summary: {
                ...summary,
                requests: total,
                goodputFrac: (summary.goodputFrac * s.records.length) / total,
              },
              decisionP99Us: NaN, // inside meshd; bench:scoring measures it
              preemptions: after.preemptions - before.preemptions,
              wallMs: performance.now() - t0,
              timeScale: S,
              timeouts: s.timeouts,
              errors: s.errors,
              firstErrors: s.firstErrors,
              h100Share: s.h100Share,
              sendLagP99Ms: s.sendLagP99Ms,
              peakInFlight: ran.peakInFlight,
              clientTtftMeanMs: mean(s.records.filter((r) => r.status === 'ok').map((r) => r.ttftMs)),
              engineTtftMeanMs:
                ((after.ttftSumS - before.ttftSumS) * 1000) / Math.max(1, after.ttftCount - before.ttftCount),
              loadAvg1: loadavg()[0] ?? NaN,
            };
            rows.push(row);
            const m = row.summary;
            console.error(
              `${trace.name} S=${S} load=${load} ${strategy.padEnd(18)}${setup.label ? ` [${setup.label}]` : ''} ttft p50/p99 ${m.ttftP50Ms.toFixed(0)}/${m.ttftP99Ms.toFixed(0)} ms  goodput ${m.goodputRps.toFixed(2)} rps  hit ${(m.prefixHitRate * 100).toFixed(1)}%  fail ${s.timeouts}+${s.errors}  (${(row.wallMs / 1000).toFixed(1)} s)`,
            );
          } finally {
            await mesh.stop();
          }
        }
  }
  return rows;
}

/** Runs the whole matrix and writes the results; children are stopped on every way out. */
export async function runReal(o: RealOptions): Promise<void> {
  const count = Number(o.requests ?? (o.quick ? 300 : 1000));
  const sims = Number(o.sims ?? 4);
  const rows: RealRunRow[] = [];
  const scales: Record<string, number> = {};
  const codeVersion = describeCode();
  const code = snapshotCode();
  const hints = routerHintsWired(code.root);
  try {
    for (const file of o.traces) {
      const traceRows = await runTrace(
        loadTrace(file, { spreadBuckets: !o.bursts }),
        o,
        count,
        sims,
        code.root,
      );
      rows.push(...traceRows);
      if (traceRows[0]) scales[traceRows[0].trace] = traceRows[0].timeScale;
    }
  } finally {
    await stopAllChildren();
    code.remove();
  }
  const meta = {
    mode: o.routers
      ? 'real: one meshd process (role gpu) and router meshd processes per setup (role router), simulator processes (createSimServer, as mesh-sim), HTTP/1.1 streaming client'
      : 'real: one meshd process (roles router + gpu), simulator processes (createSimServer, as mesh-sim), HTTP/1.1 streaming client',
    command: o.command,
    date: new Date().toISOString(),
    machine: `${hostname()} ${cpus().length}×${cpus()[0]?.model ?? '?'} ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    seed: o.seed,
    code: codeVersion,
    requestsPerTrace: count,
    timeScale: o.timeScale
      ? `${o.timeScale} (--time-scale)`
      : `per trace, mean prefill (simulated ms) ÷ ${PREFILL_MS_PER_S}, at most ${WALL_TOKENS_PER_S} streamed tokens per wall second at 95% load, in [1, 50]: ${JSON.stringify(scales)}`,
    latencies:
      'simulated ms (wall × time scale), measured at the client from SSE chunks, from each request’s scheduled send time; client, router and CPU delays are scaled by S too',
    requestsNote:
      count >= 1000
        ? `${count} requests per run: p99 is the ${Math.ceil(count / 100)}th-largest TTFT, not the maximum`
        : `${count} requests per run: p99 is the ${count - Math.ceil(0.99 * count) + 1}th-largest TTFT (run without --quick for 1,000)`,
    arrivals: describeArrivals(!o.bursts),
    maxTokens: `the router sees a client cap, uniform over {${CLIENT_MAX_TOKEN_CAPS.join(', ')}} among caps ≥ the true length, in max_tokens; the simulator gets the true length in its own sim_output_tokens field, which the router never reads`,
    repeatability:
      Number(o.repeat ?? 1) >= 2
        ? 'every (trace, load, strategy) ran twice with fresh processes: see the Repeatability table (target: within 10%)'
        : 'not checked in this run (use --repeat 2)',
    scrapeIntervalMs: `llm-d: ${LLM_D_SCRAPE_MS} simulated ms (its picker's refresh interval; at least 50 wall ms); others: ${o.scrapeMs} simulated (${JSON.stringify(Object.fromEntries(Object.entries(scales).map(([t, s]) => [t, Math.max(50, Math.round(o.scrapeMs / s))])))} wall)`,
    admission: o.admission,
    ...(o.routers
      ? {
          routers: `--routers ${o.routers}: one meshd with role gpu scrapes the simulators; each setup starts its own router processes (role router, router.workers ${o.routerWorkers ?? `${defaultRouterWorkers(Number(o.routers))} = cores ÷ (routers + 1)`}) that follow it over StatePlane; the client sends request i to router i mod N. "shared": router.shareInFlight true (each router relays its routing events — requests sent, first tokens, ends — every 20 wall ms through the gpu node, and counts the others' as its own: src/scoring/route-relay.ts); "not shared": false. 1 router runs the same split topology`,
        }
      : {}),
    routerRequestHints: hints
      ? 'wired: the router passes prompt size and prefix blocks to scoring'
      : 'NOT wired yet when this ran: the router scored without prompt size or prefix blocks (prefix-affinity, work-left prefill terms and sglang-cache-aware saw no prompt)',
    slo: SLO,
    fleet: `${sims} simulator processes: ${Math.ceil(sims / 2)} × H100 profile, ${Math.floor(sims / 2)} × A100 profile (GPU-sized: ${fleet0(sims)}, maxModelLen 262,144)`,
    notes: [
      'fresh simulators and meshd for every (load, strategy): caches start cold',
      'goodput req/s divides by the offered time (first to last arrival, simulated); out tok/s by the makespan, which includes the drain of the last requests, so short runs understate it: compare it between strategies only',
      'Mooncake prefix reuse grows along the trace: its first few hundred requests share few blocks, so cache-aware strategies have little to win in short runs',
      ...(o.quick
        ? [`--quick: ${sims} simulators, ${count} requests per trace, all loads and strategies`]
        : []),
    ],
    client: `undici Pool, ≤ ${MAX_CONCURRENCY} in flight, /v1/completions with token-id prompts, stream + include_usage, ${REQUEST_LIMIT_SIM_MS / 1000} s simulated limit per request`,
  };
  mkdirSync(o.out, { recursive: true });
  const base = join(o.out, `routing-real${o.routers ? '-routers' : ''}${o.quick ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, JSON.stringify({ meta, rows }, null, 2) + '\n');
  writeFileSync(`${base}.md`, renderRealMarkdown(meta, rows));
  console.error(`wrote ${base}.json and ${base}.md`);
}
