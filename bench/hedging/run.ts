/**
 * One (scenario, seed) group of the hedging benchmark: the same Poisson arrivals run twice, hedging
 * off then on, each against a fresh simulator fleet (`fleet.ts`, a child process) and a fresh
 * in-process meshd (router + gpu roles, default profile, one router thread). Run by `main.ts` as a
 * child process per group, so groups can run side by side on a machine with cores to spare.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { parseConfig, type ConfigInput } from '../../src/core/config.ts';
import { startMeshd, type RunningMeshd } from '../../src/agent/meshd.ts';
import { createLogger } from '../../src/observability/log.ts';
import { createRng } from '../../src/sim/rng.ts';
import type { StragglerSchedule } from '../../src/sim/faults.ts';
import { loadTrace, type TraceRequest } from '../routing/traces.ts';

export type Scenario = 'straggler' | 'no-straggler';

export interface Settings {
  endpoints: number;
  ratePerS: number;
  durationMs: number;
  /** Arrivals before this are not measured (the router is still learning the fleet). */
  warmupMs: number;
  maxPrompt: number;
  maxOutput: number;
  straggler: StragglerSchedule;
  /** `router.hedging` when on. */
  hedging: Record<string, unknown>;
  trace: string;
}

export interface RunResult {
  scenario: Scenario;
  seed: number;
  hedging: boolean;
  requests: number;
  failed: number;
  ttftP50Ms: number;
  ttftP99Ms: number;
  hedges: number;
  hedgesWon: number;
  suppressed: Record<string, number>;
  extraPercent: number;
  /** Requests the simulators counted as cancelled (each hedge race's loser). */
  simCancelled: number;
  /** The slowest 2% of measured requests: when they arrived, their size and who answered. */
  tail: { atMs: number; ttftMs: number; prompt: number; endpoint: string }[];
}

const MODEL = 'sim-llama-3-8b';

function poissonLoad(s: Settings, seed: number, pool: readonly TraceRequest[]) {
  const rng = createRng(seed * 7919);
  const out: { atMs: number; prompt: number; output: number }[] = [];
  for (let t = 0; ;) {
    t += (-Math.log(1 - rng()) * 1000) / s.ratePerS;
    if (t >= s.durationMs) break;
    const r = pool[Math.floor(rng() * pool.length)]!;
    out.push({
      atMs: t,
      prompt: Math.max(1, Math.min(s.maxPrompt, r.inputTokens)),
      output: Math.max(1, Math.min(s.maxOutput, r.outputTokens)),
    });
  }
  return out;
}

async function startFleet(s: Settings, seed: number, straggler: boolean) {
  const arg = JSON.stringify({
    n: s.endpoints,
    seed,
    timeScale: 1,
    ...(straggler ? { straggler: s.straggler } : {}),
  });
  const child: ChildProcess = spawn(
    process.execPath,
    [new URL('./fleet.ts', import.meta.url).pathname, arg],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const urls = await new Promise<string[]>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { urls: string[] }).urls));
    child.once('exit', (code) => reject(new Error(`fleet exited with ${code}`)));
  });
  return { child, urls };
}

async function startRouter(urls: string[], hedging: Record<string, unknown> | false): Promise<RunningMeshd> {
  const router: NonNullable<ConfigInput['router']> = {
    listen: { port: 0 },
    workers: 1,
    hedging: hedging || { enabled: false },
  };
  const meshd = await startMeshd(
    parseConfig({
      apiVersion: 'infermesh/v1',
      node: { id: 'bench', roles: ['router', 'gpu'] },
      api: { port: 0 },
      metrics: { port: 0 },
      log: { level: 'silent' },
      router,
      gpu: {
        scrapeIntervalMs: 250,
        runtimes: urls.map((url, i) => ({
          name: `sim-${i}`,
          url,
          runtime: 'vllm' as const,
          gpuType: 'H100',
        })),
      },
    }),
    createLogger('silent'),
  );
  for (
    let i = 0;
    i < 200 && meshd.store.list().filter((st) => st.health === 'healthy').length < urls.length;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return meshd;
}

/** One streamed completion: its TTFT (first SSE chunk; NaN when it failed) and who answered. */
async function one(agent: Agent, url: string, prompt: number[], maxTokens: number) {
  const t0 = performance.now();
  let endpoint = '';
  try {
    const res = await request(`${url}/v1/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt, max_tokens: maxTokens, stream: true, ignore_eos: true }),
    });
    endpoint = String(res.headers['x-infermesh-endpoint'] ?? '');
    let ttft = Number.NaN;
    let tail = '';
    for await (const chunk of res.body) {
      if (Number.isNaN(ttft)) ttft = performance.now() - t0;
      tail = (tail + (chunk as Buffer).toString('utf8')).slice(-32);
    }
    return {
      ttft: res.statusCode === 200 && tail.endsWith('data: [DONE]\n\n') ? ttft : Number.NaN,
      endpoint,
    };
  } catch {
    return { ttft: Number.NaN, endpoint };
  }
}

/** The router's hedge counters, summed over label sets; suppressions keyed `name:reason`. */
async function counters(meshd: RunningMeshd): Promise<Map<string, number>> {
  const text = await (await fetch(`${meshd.metricsUrl}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^(infermesh_router_hedges\w*)(\{[^}]*\})? (\S+)$/gm)) {
    const reason = /reason="([^"]+)"/.exec(m[2] ?? '')?.[1];
    const key = reason ? `${m[1]}:${reason}` : m[1]!;
    out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function run(s: Settings, scenario: Scenario, seed: number, hedging: boolean, pool: TraceRequest[]) {
  const fleet = await startFleet(s, seed, scenario === 'straggler');
  const meshd = await startRouter(fleet.urls, hedging && s.hedging);
  const agent = new Agent({ connections: 1024, pipelining: 1 });
  const load = poissonLoad(s, seed, pool);
  const rng = createRng(seed * 31 + 7);
  const t0 = performance.now();
  const pending: Promise<{ atMs: number; prompt: number; ttft: number; endpoint: string }>[] = [];
  for (const r of load) {
    const wait = t0 + r.atMs - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    // Fresh token ids: no prefix is shared, so routing cannot lean on prefix caching.
    const prompt = Array.from({ length: r.prompt }, () => 100 + Math.floor(rng() * 30_000));
    pending.push(
      one(agent, meshd.routerUrl!, prompt, r.output).then((o) => ({ atMs: r.atMs, prompt: r.prompt, ...o })),
    );
  }
  const done = await Promise.all(pending);
  const measured = done.filter((d) => d.atMs >= s.warmupMs);
  const ok = measured.filter((d) => Number.isFinite(d.ttft));
  const ttfts = ok.map((d) => d.ttft).sort((a, b) => a - b);
  const tail = [...ok]
    .sort((a, b) => b.ttft - a.ttft)
    .slice(0, Math.ceil(measured.length / 50))
    .map((d) => ({
      atMs: Math.round(d.atMs),
      ttftMs: Math.round(d.ttft),
      prompt: d.prompt,
      endpoint: d.endpoint,
    }));
  const c = await counters(meshd);
  let simCancelled = 0;
  for (const url of fleet.urls) {
    simCancelled += ((await (await fetch(`${url}/sim/stats`)).json()) as { cancelled: number }).cancelled;
  }
  await agent.close();
  await meshd.stop();
  fleet.child.kill('SIGTERM');
  await new Promise((r) => fleet.child.once('exit', r));
  const hedges = c.get('infermesh_router_hedges_total') ?? 0;
  const suppressed: Record<string, number> = {};
  for (const [k, v] of c)
    if (k.startsWith('infermesh_router_hedges_suppressed_total:')) suppressed[k.split(':')[1]!] = v;
  const result: RunResult = {
    scenario,
    seed,
    hedging,
    requests: done.length,
    failed: done.filter((d) => !Number.isFinite(d.ttft)).length,
    ttftP50Ms: quantile(ttfts, 0.5),
    ttftP99Ms: quantile(ttfts, 0.99),
    hedges,
    hedgesWon: c.get('infermesh_router_hedges_won_total') ?? 0,
    suppressed,
    extraPercent: (100 * hedges) / done.length,
    simCancelled,
    tail,
  };
  process.stderr.write(`${JSON.stringify({ ...result, tail: undefined })}\n`);
  return result;
}

/** Hedging off then on over the same arrivals. */
export async function runGroup(s: Settings, scenario: Scenario, seed: number): Promise<RunResult[]> {
  const pool = loadTrace(s.trace).requests;
  return [await run(s, scenario, seed, false, pool), await run(s, scenario, seed, true, pool)];
}

// As a child process of main.ts: run the group named on the command line, send the results back.
if (process.argv[2] === '--group' && process.send) {
  const { settings, scenario, seed } = JSON.parse(process.argv[3]!) as {
    settings: Settings;
    scenario: Scenario;
    seed: number;
  };
  const results = await runGroup(settings, scenario, seed);
  process.send(results, () => process.exit(0));
}
