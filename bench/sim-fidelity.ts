/**
 * Simulator fidelity: the simulator (h100 profile, default sizing) beside NVIDIA's published NIM
 * figures for Llama-3.1-8B-Instruct on one H100 (1,000 input / 1,000 output tokens), at the same
 * concurrencies, closed loop on virtual time. Run: `node bench/sim-fidelity.ts [--quick] [--out DIR]`.
 * Writes `sim-fidelity{-quick}.{md,json}` into bench/results (or DIR).
 */
import { describeMachine, commandLine, machineLine } from './lib/machine.ts';
import { fmt, table, writeResults, RESULTS_DIR } from './lib/report.ts';
import { median, runClosedLoop, steadyRequestMs } from '../src/sim/closed-loop.ts';
import { BLOCK_SIZE } from '../src/sim/kv-cache.ts';
import { GPU_PROFILES } from '../src/sim/profiles.ts';
import { defaultSizing } from '../src/sim/sizing.ts';

const NIM_SOURCE = {
  url: 'https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance',
  what:
    'NVIDIA NIM for LLMs benchmarking guide, Performance: Llama-3.1-8b-instruct results, NIM 1.8.0, ' +
    '1 × H100 80G, fp8, TP1, 1000 input / 1000 output tokens (AIPerf/genai-perf, concurrency mode)',
};

/** Published TTFT and ITL (ms) by concurrency. */
const NIM: Readonly<Record<number, { ttftMs: number; itlMs: number }>> = {
  1: { ttftMs: 10.26, itlMs: 4.63 },
  5: { ttftMs: 16.81, itlMs: 4.58 },
  25: { ttftMs: 36.34, itlMs: 5.19 },
  50: { ttftMs: 67.41, itlMs: 5.91 },
  100: { ttftMs: 119.97, itlMs: 7.57 },
  150: { ttftMs: 346.53, itlMs: 9.81 },
  200: { ttftMs: 465.18, itlMs: 12.65 },
  250: { ttftMs: 605.6, itlMs: 16.14 },
};

const PROMPT = 1000;
const OUTPUT = 1000;
/** The levels, with NIM's own in between. */
const LEVELS = [1, 5, 10, 25, 50, 100, 150, 200, 250];

interface Row {
  concurrency: number;
  requests: number;
  simTtftMs: number;
  simTtftP90Ms: number;
  simItlMs: number;
  nimTtftMs?: number;
  nimItlMs?: number;
  preemptions: number;
}

function measure(concurrency: number, requests: number, spread: boolean): Row {
  const profile = GPU_PROFILES.h100;
  const r = runClosedLoop({
    concurrency,
    promptTokens: PROMPT,
    outputTokens: OUTPUT,
    requests,
    startSpreadMs: spread ? steadyRequestMs(profile, concurrency, PROMPT, OUTPUT) : 0,
    engine: { profile: 'h100' },
  });
  const ttfts = r.timings.map((t) => t.ttftMs).sort((a, b) => a - b);
  const nim = NIM[concurrency];
  return {
    concurrency,
    requests: r.timings.length,
    simTtftMs: median(ttfts),
    simTtftP90Ms: ttfts[Math.min(ttfts.length - 1, Math.ceil(0.9 * ttfts.length) - 1)] ?? Number.NaN,
    simItlMs: median(r.timings.map((t) => t.itlMs)),
    ...(nim ? { nimTtftMs: nim.ttftMs, nimItlMs: nim.itlMs } : {}),
    preemptions: r.preemptions,
  };
}

const ratio = (sim: number, nim: number | undefined) => (nim ? `${fmt(sim / nim)}×` : '–');

function rowsTable(rows: Row[]): string {
  return table(
    [
      'concurrency',
      'sim TTFT ms',
      'NIM TTFT ms',
      'ratio',
      'sim ITL ms',
      'NIM ITL ms',
      'ratio',
      'sim TTFT p90 ms',
      'preemptions',
    ],
    rows.map((r) => [
      r.concurrency,
      fmt(r.simTtftMs, 1),
      fmt(r.nimTtftMs, 1),
      ratio(r.simTtftMs, r.nimTtftMs),
      fmt(r.simItlMs, 2),
      fmt(r.nimItlMs, 2),
      ratio(r.simItlMs, r.nimItlMs),
      fmt(r.simTtftP90Ms, 1),
      r.preemptions,
    ]),
  );
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIdx = args.indexOf('--out');
const outDir = outIdx >= 0 ? (args[outIdx + 1] ?? RESULTS_DIR) : RESULTS_DIR;
// Measured requests per level after two warm-up waves (closed-loop.ts says why); the medians of
// the third wave on do not move with more requests (max(3c, 60) against 4c: within 0.1%).
const requestsFor = (c: number) => (quick ? Math.max(c, 20) : Math.max(3 * c, 60));

const sizing = defaultSizing(GPU_PROFILES.h100, BLOCK_SIZE);
const started = performance.now();
const steady = LEVELS.map((c) => measure(c, requestsFor(c), true));
const together = LEVELS.map((c) => measure(c, requestsFor(c), false));
const wallS = (performance.now() - started) / 1000;
const machine = describeMachine({});
const date = new Date().toISOString();
const command = commandLine();

const md = `# Simulator fidelity: mesh-sim (h100) beside NVIDIA NIM on one H100

- **command**: ${command}
- **date**: ${date}
- **machine**: ${machineLine(machine).replace(/; $/, '')} (virtual time: the numbers do not depend on the machine; the run took ${fmt(wallS, 1)} s)
- **simulator**: profile h100 (Llama-3-8B shape, bf16), default sizing: ${sizing.kvBlocks.toLocaleString('en-US')} KV blocks of ${BLOCK_SIZE} tokens, max_num_seqs ${sizing.maxNumSeqs}, max_num_batched_tokens ${sizing.maxNumBatchedTokens}, prefix caching on (no hits: every prompt is distinct)
- **workload**: closed loop, ${PROMPT} prompt tokens, exactly ${OUTPUT} output tokens (ignore_eos); the first two waves of requests (2 × concurrency) are warm-up; medians over the measured requests (${quick ? 'quick: max(c, 20)' : 'max(3c, 60)'} per level); ITL per request is (last token − first token) / (output − 1), as genai-perf computes it
- **published**: ${NIM_SOURCE.what} — ${NIM_SOURCE.url}

## Steady state (clients' first requests spread over one request's duration)

${rowsTable(steady)}

## All clients start together (genai-perf's start, on a simulator without jitter)

Step times have no noise here, so requests that start together finish together and come back
together: the waves never scatter, and every wave queues its prompts behind one another.

${rowsTable(together)}
`;

const json = {
  command,
  date,
  machine,
  quick,
  simulator: { profile: 'h100', blockSize: BLOCK_SIZE, ...sizing },
  workload: { promptTokens: PROMPT, outputTokens: OUTPUT },
  published: { ...NIM_SOURCE, table: NIM },
  steady,
  together,
};
const files = writeResults(outDir, quick ? 'sim-fidelity-quick' : 'sim-fidelity', json, md);
process.stdout.write(`${md}\nwrote ${files.join(', ')}\n`);
