// The default profile's learned GPU speed, driven through the real simulator engines (the ones
// `mesh-sim` serves) on virtual time: a mixed H100 + A100 fleet, the router seeing runtime state
// only through periodic scrapes (no injected batch size), and the learned H100:A100 rate ratio
// graded against the simulator's own ratio, computed here from its GPU profiles. The profiles are
// the grader only; nothing of them reaches the router.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScoringEngine, type ScoringEngine } from '../src/scoring/engine.ts';
import { prefillWork } from '../src/scoring/wait-model.ts';
import { createVirtualClock } from '../src/sim/clock.ts';
import { createSimEngine, type SimEngine } from '../src/sim/engine.ts';
import { GPU_PROFILES, type GpuProfile } from '../src/sim/profiles.ts';
import { createRng } from '../src/sim/rng.ts';
import { stepTimeMs } from '../src/sim/step-time.ts';
import { scrapedState } from '../src/sim/testing/scraped-state.ts';

const MODEL = 'sim-llama-3-8b';
const STEP_TOKENS = 2048; // the simulator's default chunked-prefill budget
const FLEET = ['h100', 'a100', 'h100', 'a100'] as const;
const KNEE = 16_384; // the engine's default attention knee (how the router counts work)

interface Workload {
  prompts: number[];
  outputs: number[];
}

/** Code-like prompts: log-uniform 128..6,000 tokens; short answers (16..160 tokens). */
function workload(n: number, seed: number): Workload {
  const rng = createRng(seed);
  const prompts: number[] = [];
  const outputs: number[] = [];
  for (let i = 0; i < n; i++) {
    prompts.push(Math.round(128 * Math.exp(rng() * Math.log(6000 / 128))));
    outputs.push(16 + Math.floor(rng() * 144));
  }
  return { prompts, outputs };
}

/** Idle prefill time (ms) of a prompt on a profile: its chunks, each a step with its context. */
function prefillMs(profile: GpuProfile, prompt: number): number {
  let ms = 0;
  for (let done = 0; done < prompt; done += STEP_TOKENS) {
    ms += stepTimeMs(profile, [{ newTokens: Math.min(STEP_TOKENS, prompt - done), contextTokens: done }]);
  }
  return ms;
}

/** The simulator's true H100:A100 prefill speed ratio on these prompts (work-weighted, as the rate is). */
function trueRatio(w: Workload): number {
  let h = 0;
  let a = 0;
  for (const p of w.prompts) {
    h += prefillMs(GPU_PROFILES.h100, p);
    a += prefillMs(GPU_PROFILES.a100, p);
  }
  return a / h;
}

/** Requests per second the fleet can prefill (from the profiles; only to set the offered load). */
function prefillCapacityRps(w: Workload): number {
  let perReq = 0;
  for (const g of FLEET) {
    let ms = 0;
    for (const p of w.prompts) ms += prefillMs(GPU_PROFILES[g], p);
    perReq += w.prompts.length / (ms / 1000);
  }
  return perReq;
}

interface RunResult {
  ratio: number;
  overheads: number[];
  h100Rate: number;
  a100Rate: number;
  h100Share: number;
  meanTtftMs: number;
}

/** Offers `load` × the fleet's prefill capacity as Poisson arrivals; returns the learned rates. */
function run(w: Workload, load: number, seed: number): RunResult {
  const clock = createVirtualClock();
  const rng = createRng(seed * 7919);
  const scoring: ScoringEngine = createScoringEngine({ now: () => clock.now(), random: rng });
  const engines: SimEngine[] = FLEET.map((profile, i) =>
    createSimEngine({ model: MODEL, profile, clock, seed: seed + i, maxModelLen: 16_384 }),
  );
  const ids = FLEET.map((g, i) => `sim/${g}-${i}`);
  const scrape = (i: number) =>
    scoring.fleet.upsert(
      scrapedState(engines[i]!, {
        endpointId: ids[i]!,
        index: i,
        model: MODEL,
        gpuType: FLEET[i]!.toUpperCase(),
        now: clock.now(),
      }),
    );
  let outstanding = w.prompts.length;
  const scrapeLoop = (i: number) => {
    scrape(i);
    if (outstanding > 0) clock.setTimer(100, () => scrapeLoop(i));
  };
  FLEET.forEach((_, i) => scrapeLoop(i));

  const meanGapMs = 1000 / (load * prefillCapacityRps(w));
  const perGpu = { h100: 0, a100: 0 };
  let ttftSum = 0;
  const arrive = (k: number) => {
    if (k + 1 < w.prompts.length) clock.setTimer(-Math.log(1 - rng()) * meanGapMs, () => arrive(k + 1));
    const prompt = w.prompts[k]!;
    const tokenIds = Array.from({ length: prompt }, (_, j) => (k * 7_919 + j * 104_729) % 128_000);
    const req = { model: MODEL, promptTokens: prompt, maxTokens: w.outputs[k]! };
    const d = scoring.decide(req, undefined, false);
    const ticket = scoring.routed(d.target, req, d.predictedWaitMs);
    const i = ids.indexOf(d.target.endpointId);
    perGpu[FLEET[i]!]++;
    const start = clock.now();
    let first = Number.NaN;
    engines[i]!.submit({
      promptTokenIds: tokenIds,
      maxTokens: w.outputs[k]!,
      ignoreEos: true,
      onToken: (_t, index) => {
        if (index !== 0) return;
        first = clock.now() - start;
        ttftSum += first;
        scoring.firstToken(ticket, first);
      },
      onFinish: () => {
        scoring.finished(ticket, { ok: true, e2eMs: clock.now() - start, ttftMs: first });
        outstanding--;
      },
    });
  };
  arrive(0);
  clock.runUntil(() => outstanding === 0, 50_000_000);
  for (const e of engines) e.close();
  const cellOf = (i: number) => {
    const v = scoring.fleet.get(ids[i]!, MODEL)!;
    scoring.predictWaitMs(v); // reads the rate through the engine's context, filling the view's cell
    return v.rateCell!;
  };
  // The router's predicted prefill time for the whole workload on each GPU type, as the grader's.
  const predictedMs = (i: number) => {
    const c = cellOf(i);
    let ms = 0;
    for (const p of w.prompts) ms += c.overheadMs + (prefillWork(p, p, KNEE) * 1000) / c.value;
    return ms;
  };
  const h100Rate = cellOf(0).value;
  const a100Rate = cellOf(1).value;
  return {
    ratio: predictedMs(1) / predictedMs(0),
    overheads: [cellOf(0).overheadMs, cellOf(1).overheadMs],
    h100Rate,
    a100Rate,
    h100Share: perGpu.h100 / w.prompts.length,
    meanTtftMs: ttftSum / w.prompts.length,
  };
}

const N = 1200;

for (const load of [0.5, 0.95]) {
  test(`learned H100:A100 speed lands within 20% of the simulator's true ratio at ${load * 100}% load`, () => {
    const w = workload(N, 10 + Number(process.env.SEED ?? 1));
    const truth = trueRatio(w);
    const r = run(w, load, Number(process.env.SEED ?? 1));
    const line = `load ${load}: learned ${r.ratio.toFixed(2)} (H100 ${r.h100Rate.toFixed(0)}, A100 ${r.a100Rate.toFixed(0)} tok/s; overhead ${r.overheads.map((o) => o.toFixed(1)).join('/')} ms), true ${truth.toFixed(2)}, H100 share ${(r.h100Share * 100).toFixed(0)}%, mean TTFT ${r.meanTtftMs.toFixed(0)} ms`;
    console.log(line);
    assert.ok(Math.abs(r.ratio / truth - 1) <= 0.2, line);
  });
}
