/**
 * `npm run bench:scoring [-- --quick] [--out DIR]`: decision time of the scoring engine's default
 * profile at 16, 64, 1,000 and 10,000 endpoints (mixed H100/A100, realistic state, a warm prefix
 * index, 8k-token prompts with prefix blocks). process.hrtime.bigint around each `decide`, after
 * a warm-up; p50/p99/max recorded in bench/results/scoring-decision.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelState } from '../src/core/types.ts';
import { createScoringEngine } from '../src/scoring/engine.ts';
import { prefixBlockHashes } from '../src/scoring/prefix-index.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    profile: { type: 'string', default: 'default' },
  },
});
const quick = values.quick ?? false;
const SIZES = [16, 64, 1000, 10_000];

function measure(n: number): { p50: number; p99: number; max: number; iterations: number } {
  let seed = 42;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const engine = createScoringEngine({ random, profile: values.profile });
  for (let i = 0; i < n; i++) {
    const s: ModelState = {
      endpointId: `node-${i >> 3}/ep-${i}`,
      endpointUrl: `http://10.0.0.${i & 255}:8000`,
      node: `node-${i >> 3}`,
      model: 'm',
      runtime: 'vllm',
      health: 'healthy',
      loaded: true,
      warming: false,
      queueDepth: Math.floor(random() * 8),
      running: Math.floor(random() * 64),
      kvCacheUsage: random(),
      batchFullness: 0.5,
      kvBlocksTotal: 32_768,
      kvBlockSize: 16,
      gpuType: i % 2 ? 'A100' : 'H100',
      updatedAt: 0,
    };
    engine.fleet.upsert(s);
  }
  // 64 conversations of 8k-token prompts; each request shares a conversation's prefix.
  const prompts = Array.from({ length: 64 }, (_, c) =>
    prefixBlockHashes(
      Array.from({ length: 8192 }, (_, t) => (c * 7919 + t * 31) >>> 0),
      engine.blockTokens,
    ),
  );
  const run = (i: number) => {
    const req = { model: 'm', promptTokens: 8192, maxTokens: 256, blockHashes: prompts[i % 64]! };
    const d = engine.decide(req);
    const t = engine.routed(d.target, req, d.predictedWaitMs);
    engine.finished(t, { ok: true, e2eMs: 1000, ttftMs: 200 });
  };
  const iterations = quick ? (n >= 10_000 ? 300 : 3000) : n >= 10_000 ? 3000 : 30_000;
  for (let i = 0; i < Math.min(iterations, 2000); i++) run(i); // warm-up: JIT, prefix index
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const req = { model: 'm', promptTokens: 8192, maxTokens: 256, blockHashes: prompts[i % 64]! };
    const t0 = process.hrtime.bigint();
    const d = engine.decide(req);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    const t = engine.routed(d.target, req, d.predictedWaitMs);
    engine.finished(t, { ok: true, e2eMs: 1000, ttftMs: 200 });
  }
  samples.sort();
  const q = (p: number) => samples[Math.min(iterations - 1, Math.ceil(p * iterations) - 1)]!;
  return { p50: q(0.5), p99: q(0.99), max: samples[iterations - 1]!, iterations };
}

const rows = SIZES.map((n) => {
  const r = measure(n);
  console.error(
    `${n} endpoints: p50 ${r.p50.toFixed(1)} µs  p99 ${r.p99.toFixed(1)} µs  max ${r.max.toFixed(1)} µs (${r.iterations} decisions)`,
  );
  return { endpoints: n, ...r };
});
const meta = {
  command: `npm run bench:scoring -- ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: `${hostname()} ${cpus().length}×${cpus()[0]?.model ?? '?'} ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  profile: values.profile,
  note: 'shared 2-core machine with other engineers working; tails include their load',
  targets: { p99At64Us: 50, p99At10kUs: 2000 },
};
mkdirSync(values.out, { recursive: true });
const base = join(values.out, quick ? 'scoring-decision-quick' : 'scoring-decision');
writeFileSync(`${base}.json`, JSON.stringify({ meta, rows }, null, 2) + '\n');
const md = [
  '# Scoring decision time',
  '',
  ...Object.entries(meta).map(
    ([k, v]) =>
      `- **${k}**: ${typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean)}`,
  ),
  '',
  '| endpoints | decisions | p50 µs | p99 µs | max µs | target p99 |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.endpoints} | ${r.iterations} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.endpoints === 64 ? '< 50' : r.endpoints === 10_000 ? '< 2000' : '–'} |`,
  ),
  '',
].join('\n');
writeFileSync(`${base}.md`, md);
console.error(`wrote ${base}.json and ${base}.md`);
