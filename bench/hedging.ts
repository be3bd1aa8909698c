/**
 * Hedging benchmark: TTFT p50/p99 with and without `router.hedging`, with one straggler in the
 * fleet (a simulator 10× slow for periods, `src/sim/faults.ts`) and without one, and the extra
 * requests hedging cost. A fleet of H100 simulators in a child process (`hedging-fleet.ts`), one
 * in-process meshd (router + gpu roles, default scoring profile, one router thread), and an open
 * Poisson load whose prompt and output lengths are drawn from the Azure LLM 2023 conversation
 * trace (`../shared/traces`; no prefix reuse: every prompt is fresh token ids). Every
 * (scenario, seed) pair runs twice, hedging off and on, on the same arrivals.
 *
 *   node bench/hedging.ts [--quick]    → bench/results/hedging{-quick}.{md,json}
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { parseConfig, type ConfigInput } from '../src/core/config.ts';
import { startMeshd, type RunningMeshd } from '../src/agent/meshd.ts';
import { createLogger } from '../src/observability/log.ts';
import { createRng, type Rng } from '../src/sim/rng.ts';
import type { StragglerSchedule } from '../src/sim/faults.ts';
import { loadTrace, type TraceRequest } from './routing/traces.ts';
import { commandLine, describeMachine, machineLine } from './lib/machine.ts';

const QUICK = process.argv.includes('--quick');
const SEEDS = process.env.HEDGING_SEEDS?.split(',').map(Number) ?? (QUICK ? [1, 2, 3] : [1, 2, 3, 4, 5]);
const DURATION_MS = Number(process.env.HEDGING_DURATION_MS ?? (QUICK ? 20_000 : 40_000));
const WARMUP_MS = 4_000;
const ENDPOINTS = 8;
const RATE_PER_S = 12;
const MAX_PROMPT = 8_000;
const MAX_OUTPUT = 400;
const STRAGGLER: StragglerSchedule = { factor: 10, periodMs: 6_000, slowMs: 2_000, offsetMs: 3_000 };
// `HEDGING_CONFIG='{"budget":"p95"}'` tries other `router.hedging` settings; the rest are the defaults.
const HEDGING = {
  enabled: true,
  ...(JSON.parse(process.env.HEDGING_CONFIG ?? '{}') as Record<string, unknown>),
};
// Beside the checkout, as for bench:routing (run from the repo root).
const TRACE = '../shared/traces/azure_llm_2023/AzureLLMInferenceTrace_conv.csv';
const MODEL = 'sim-llama-3-8b';

interface RunResult {
  scenario: 'straggler' | 'no-straggler';
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
}

function poissonLoad(
  seed: number,
  pool: readonly TraceRequest[],
): { atMs: number; prompt: number; output: number }[] {
  const rng: Rng = createRng(seed * 7919);
  const out: { atMs: number; prompt: number; output: number }[] = [];
  for (let t = 0; ;) {
    t += (-Math.log(1 - rng()) * 1000) / RATE_PER_S;
    if (t >= DURATION_MS) break;
    const r = pool[Math.floor(rng() * pool.length)]!;
    out.push({
      atMs: t,
      prompt: Math.max(1, Math.min(MAX_PROMPT, r.inputTokens)),
      output: Math.max(1, Math.min(MAX_OUTPUT, r.outputTokens)),
    });
  }
  return out;
}

async function startFleet(
  seed: number,
  straggler: boolean,
): Promise<{ child: ChildProcess; urls: string[] }> {
  const arg = JSON.stringify({
    n: ENDPOINTS,
    seed,
    timeScale: 1,
    ...(straggler ? { straggler: STRAGGLER } : {}),
  });
  const child = spawn(process.execPath, ['bench/hedging-fleet.ts', arg], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const urls = await new Promise<string[]>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { urls: string[] }).urls));
    child.once('exit', (code) => reject(new Error(`fleet exited with ${code}`)));
  });
  return { child, urls };
}

async function startRouter(urls: string[], hedging: boolean): Promise<RunningMeshd> {
  const router: NonNullable<ConfigInput['router']> = {
    listen: { port: 0 },
    workers: 1,
    hedging: hedging ? HEDGING : { enabled: false },
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
    i < 200 && meshd.store.list().filter((s) => s.health === 'healthy').length < urls.length;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return meshd;
}

/** One streamed completion; resolves with its TTFT (first SSE chunk) or NaN when it failed. */
async function one(agent: Agent, url: string, prompt: number[], maxTokens: number): Promise<number> {
  const t0 = performance.now();
  try {
    const res = await request(`${url}/v1/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt, max_tokens: maxTokens, stream: true, ignore_eos: true }),
    });
    let ttft = Number.NaN;
    let tail = '';
    for await (const chunk of res.body) {
      if (Number.isNaN(ttft)) ttft = performance.now() - t0;
      tail = (tail + (chunk as Buffer).toString('utf8')).slice(-32);
    }
    return res.statusCode === 200 && tail.endsWith('data: [DONE]\n\n') ? ttft : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

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

async function run(scenario: RunResult['scenario'], seed: number, hedging: boolean, pool: TraceRequest[]) {
  const fleet = await startFleet(seed, scenario === 'straggler');
  const meshd = await startRouter(fleet.urls, hedging);
  const agent = new Agent({ connections: 1024, pipelining: 1 });
  const load = poissonLoad(seed, pool);
  const rng = createRng(seed * 31 + 7);
  const t0 = performance.now();
  const pending: Promise<{ atMs: number; ttft: number }>[] = [];
  for (const r of load) {
    const wait = t0 + r.atMs - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    // Fresh token ids: no prefix is shared, so routing cannot lean on prefix caching.
    const prompt = Array.from({ length: r.prompt }, () => 100 + Math.floor(rng() * 30_000));
    pending.push(one(agent, meshd.routerUrl!, prompt, r.output).then((ttft) => ({ atMs: r.atMs, ttft })));
  }
  const done = await Promise.all(pending);
  const measured = done.filter((d) => d.atMs >= WARMUP_MS);
  const ttfts = measured
    .map((d) => d.ttft)
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
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
  };
  console.log(JSON.stringify(result));
  return result;
}

/** Mean and 95% interval half-width (Student's t) of `xs`. */
function meanCi(xs: readonly number[]): { mean: number; ci: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci: Number.NaN };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const t = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262][n - 2] ?? 1.96;
  return { mean, ci: (t * sd) / Math.sqrt(n) };
}

const fmt = (x: { mean: number; ci: number }, digits = 0) =>
  `${x.mean.toFixed(digits)} ± ${x.ci.toFixed(digits)}`;

const trace = loadTrace(TRACE);
const started = new Date().toISOString();
const results: RunResult[] = [];
for (const scenario of ['straggler', 'no-straggler'] as const) {
  for (const seed of SEEDS) {
    for (const hedging of [false, true]) results.push(await run(scenario, seed, hedging, trace.requests));
  }
}

const machine = describeMachine({});
const lines: string[] = [
  `# Hedging benchmark${QUICK ? ' (quick)' : ''}`,
  '',
  `- Command: \`${commandLine()}\``,
  `- Date: ${started}`,
  `- Machine: ${machineLine(machine)}`,
  `- Fleet: ${ENDPOINTS} simulated H100 endpoints (mesh-sim engine, time scale 1) in one child process; one meshd (router + gpu roles, default scoring profile, \`router.workers: 1\`) and the load in the benchmark's process.`,
  `- Load: Poisson, ${RATE_PER_S} req/s for ${DURATION_MS / 1000} s per run (the first ${WARMUP_MS / 1000} s not measured), prompt and output lengths drawn from the Azure LLM 2023 conversation trace (prompt ≤ ${MAX_PROMPT}, output ≤ ${MAX_OUTPUT} tokens; fresh token ids, no prefix reuse), streamed, \`ignore_eos\`.`,
  `- Straggler: endpoint sim-0's clock runs ${STRAGGLER.factor}× slow for ${STRAGGLER.slowMs / 1000} s of every ${STRAGGLER.periodMs / 1000} s (\`createStragglerClock\`, src/sim/faults.ts).`,
  `- Hedging on: \`${JSON.stringify(HEDGING)}\` (other keys at their defaults: min/max budget 50/10,000 ms, burst 2, saturated at queue 8 or predicted wait 2 s).`,
  `- Seeds: ${SEEDS.join(', ')}; each (scenario, seed) runs hedging off and on over the same arrivals. Mean ± 95% interval (Student's t) over seeds.`,
  '',
  '| scenario | hedging | TTFT p50 ms | TTFT p99 ms | extra requests % | hedges won % | failed |',
  '|---|---|---|---|---|---|---|',
];
const summary: Record<string, unknown> = {};
for (const scenario of ['straggler', 'no-straggler'] as const) {
  const byMode: Record<string, { p50: { mean: number; ci: number }; p99: { mean: number; ci: number } }> = {};
  for (const hedging of [false, true]) {
    const rs = results.filter((r) => r.scenario === scenario && r.hedging === hedging);
    const p50 = meanCi(rs.map((r) => r.ttftP50Ms));
    const p99 = meanCi(rs.map((r) => r.ttftP99Ms));
    const extra = meanCi(rs.map((r) => r.extraPercent));
    const won = meanCi(rs.map((r) => (r.hedges > 0 ? (100 * r.hedgesWon) / r.hedges : 0)));
    const failed = rs.reduce((a, r) => a + r.failed, 0);
    byMode[hedging ? 'on' : 'off'] = { p50, p99 };
    lines.push(
      `| ${scenario} | ${hedging ? 'on' : 'off'} | ${fmt(p50)} | ${fmt(p99)} | ${fmt(extra, 2)} | ${hedging ? fmt(won) : '–'} | ${failed} |`,
    );
  }
  // Per-seed ratio off/on of p99: paired runs over the same arrivals.
  const ratios = SEEDS.map((seed) => {
    const off = results.find((r) => r.scenario === scenario && r.seed === seed && !r.hedging)!;
    const on = results.find((r) => r.scenario === scenario && r.seed === seed && r.hedging)!;
    return off.ttftP99Ms / on.ttftP99Ms;
  });
  summary[scenario] = { ...byMode, p99RatioOffOverOn: meanCi(ratios) };
}
lines.push('');
for (const scenario of ['straggler', 'no-straggler'] as const) {
  const s = summary[scenario] as { p99RatioOffOverOn: { mean: number; ci: number } };
  lines.push(
    `- ${scenario}: TTFT p99 without hedging ÷ with hedging, paired per seed: ${fmt(s.p99RatioOffOverOn, 2)}×`,
  );
}
{
  const s = summary.straggler as { p99RatioOffOverOn: { mean: number; ci: number } };
  const n = summary['no-straggler'] as { p99RatioOffOverOn: { mean: number; ci: number } };
  const extra = meanCi(
    results.filter((r) => r.scenario === 'straggler' && r.hedging).map((r) => r.extraPercent),
  );
  const met = s.p99RatioOffOverOn.mean - s.p99RatioOffOverOn.ci >= 3 && extra.mean + extra.ci <= 5;
  const noLoss = n.p99RatioOffOverOn.mean + n.p99RatioOffOverOn.ci >= 1;
  lines.push(
    '',
    `- Target ≥ 3× lower TTFT p99 with a straggler for ≤ 5% extra requests: **${met ? 'met' : 'missed'}**.`,
    `- Target no measurable loss without a straggler: **${noLoss ? 'met' : 'missed'}** (interval of the paired ratio ${noLoss ? 'reaches' : 'stays below'} 1).`,
  );
}
lines.push('', '## Runs', '', '```', ...results.map((r) => JSON.stringify(r)), '```', '');
mkdirSync('bench/results', { recursive: true });
const base = `bench/results/hedging${QUICK ? '-quick' : ''}`;
writeFileSync(`${base}.md`, lines.join('\n'));
writeFileSync(
  `${base}.json`,
  `${JSON.stringify({ command: commandLine(), date: started, machine, settings: { SEEDS, DURATION_MS, WARMUP_MS, ENDPOINTS, RATE_PER_S, STRAGGLER, HEDGING }, summary, runs: results }, null, 2)}\n`,
);
console.log(lines.join('\n'));
