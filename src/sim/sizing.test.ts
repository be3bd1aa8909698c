import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVirtualClock } from './clock.ts';
import { createSimEngine } from './engine.ts';
import { BLOCK_SIZE } from './kv-cache.ts';
import { GPU_PROFILES } from './profiles.ts';
import { createSimServer } from './server.ts';
import { defaultSizing, KV_BYTES_PER_TOKEN } from './sizing.ts';

const GiB = 2 ** 30;

test('Llama-3-8B in bf16 holds 128 KiB of KV per token (32 layers × 8 KV heads × 128 × K,V × 2 bytes)', () => {
  assert.equal(KV_BYTES_PER_TOKEN, 32 * 8 * 128 * 2 * 2);
  assert.equal(KV_BYTES_PER_TOKEN, 128 * 1024);
});

test("default sizing is vLLM's formula for each GPU profile", () => {
  // The formula written out again from its inputs: NVML's total memory × 0.9, minus bf16 weights
  // (8,030,261,248 parameters × 2 bytes) and a 2 GiB activation reserve, over 16 tokens × 128 KiB.
  const expected = {
    h100: { memory: 81_559 * 2 ** 20, seqs: 1024, budget: 8192 },
    a100: { memory: 81_920 * 2 ** 20, seqs: 256, budget: 2048 },
  };
  for (const profile of Object.values(GPU_PROFILES)) {
    const e = expected[profile.name];
    const kvBytes = e.memory * 0.9 - 8_030_261_248 * 2 - 2 * GiB;
    const s = defaultSizing(profile, BLOCK_SIZE);
    assert.equal(s.kvBlocks, Math.floor(kvBytes / (16 * 131_072)), profile.name);
    assert.equal(s.maxNumSeqs, e.seqs, profile.name);
    assert.equal(s.maxNumBatchedTokens, e.budget, profile.name);
    // vLLM's start-up log for an 8B bf16 model on an 80 GB GPU reserves about 55 GiB of KV cache.
    assert.ok(s.kvCacheBytes > 50 * GiB && s.kvCacheBytes < 60 * GiB, `${profile.name}: ${s.kvCacheBytes}`);
    // The published 1000-in/1000-out workload at concurrency 250 fits at its mean length (1,500).
    assert.ok(s.kvBlocks * BLOCK_SIZE > 250 * 1500, `${profile.name}: ${s.kvBlocks} blocks`);
  }
  assert.equal(defaultSizing(GPU_PROFILES.h100, BLOCK_SIZE).kvBlocks, 28_019);
});

test('the engine and the server take the sizing when no limit is given, and every limit still overrides', async () => {
  const clock = createVirtualClock();
  for (const profile of ['h100', 'a100'] as const) {
    const s = defaultSizing(GPU_PROFILES[profile], BLOCK_SIZE);
    const engine = createSimEngine({ profile, clock });
    assert.deepEqual(
      [engine.numBlocks, engine.maxNumSeqs, engine.maxNumBatchedTokens],
      [s.kvBlocks, s.maxNumSeqs, s.maxNumBatchedTokens],
    );
    engine.close();
  }
  const custom = createSimEngine({ clock, kvBlocks: 100, maxNumSeqs: 8, maxNumBatchedTokens: 512 });
  assert.deepEqual([custom.numBlocks, custom.maxNumSeqs, custom.maxNumBatchedTokens], [100, 8, 512]);
  custom.close();

  const sim = await createSimServer({ port: 0, profile: 'a100', clock });
  try {
    const a100 = defaultSizing(GPU_PROFILES.a100, BLOCK_SIZE);
    assert.equal(sim.engine.numBlocks, a100.kvBlocks);
    const metrics = await (await fetch(`${sim.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`num_gpu_blocks="${a100.kvBlocks}"`));
  } finally {
    await sim.close();
  }
  const small = await createSimServer({ port: 0, clock, kvBlocks: 4096, maxNumSeqs: 64 });
  try {
    assert.deepEqual([small.engine.numBlocks, small.engine.maxNumSeqs], [4096, 64]);
  } finally {
    await small.close();
  }
});
