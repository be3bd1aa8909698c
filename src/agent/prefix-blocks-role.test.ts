import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../core/config.ts';
import { chainPrefixKeys } from '../core/prefix-keys.ts';
import { tokenIds } from '../core/tokens.ts';
import { createLogger } from '../observability/log.ts';
import { createMeshMetrics } from '../observability/metrics.ts';
import { createScoringEngine } from '../scoring/engine.ts';
import { createStateStore } from '../signal/state/state-store.ts';
import { startGpuRole } from './gpu-role.ts';
import { feedLocalPrefixBlocksToEngine } from './prefix-blocks-companion.ts';

test('the gpu role subscribes to its simulators’ KV events; a router on the node routes on them', async (t) => {
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    node: { id: 'n', roles: ['gpu'] },
    gpu: {
      simulators: [
        { name: 's1', kvEvents: { port: 0 }, timeScale: 50 },
        { name: 's2', timeScale: 50 }, // no events: nothing subscribes
      ],
    },
  });
  const gpu = await startGpuRole(config, {
    store: createStateStore(),
    metrics: createMeshMetrics({ defaultMetrics: false }),
    logger: createLogger('silent'),
  });
  t.after(() => gpu.stop());
  const engine = createScoringEngine();
  const stopFeed = feedLocalPrefixBlocksToEngine(gpu.prefixBlocks, engine);
  t.after(stopFeed);
  await sleep(200);
  const prompt = 'Precise prefix routing keys blocks by token ids. '.repeat(10);
  const res = await fetch(`${gpu.simulators[0]!.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-llama-3-8b', prompt, max_tokens: 1 }),
  });
  assert.equal(res.status, 200);
  await res.text();
  const keys = chainPrefixKeys(tokenIds(prompt), 16);
  for (let i = 0; engine.precisePrefix.size('n/s1') < keys.length; i++) {
    assert.ok(i < 500, 'the blocks reach the router');
    await sleep(10);
  }
  assert.deepEqual([...(gpu.prefixBlocks.blocks('n/s1') ?? [])], keys);
  assert.equal(gpu.prefixBlocks.blocks('n/s2'), undefined);
});

test('runtime kvEvents must be tcp://host:port', () => {
  const base = { apiVersion: 'infermesh/v1', node: { id: 'n', roles: ['gpu'] } };
  const rt = (kvEvents: string) => ({
    ...base,
    gpu: { runtimes: [{ name: 'v', url: 'http://127.0.0.1:8000', kvEvents }] },
  });
  assert.equal(parseConfig(rt('tcp://10.0.0.5:5557')).gpu.runtimes[0]!.kvEvents, 'tcp://10.0.0.5:5557');
  assert.throws(() => parseConfig(rt('http://10.0.0.5:5557')), /tcp:\/\/host:port/);
});
