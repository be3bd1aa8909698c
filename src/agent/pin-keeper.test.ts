// The pin keeper against a fake vLLM with the real LoRA routes, through the real runtime scraper:
// a pinned adapter missing on this node is loaded (and reported), a failing load is reported and
// not retried before its back-off, and pins of other nodes are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPolicyFeed } from '../control/policy-feed.ts';
import { EMPTY_ROUTING_POLICY, type RoutingPolicy } from '../control/routing-policy.ts';
import type { EventType } from '../control/model/names.ts';
import { createLogger } from '../observability/log.ts';
import { createRuntimeScraper } from '../signal/runtime/scraper.ts';
import { startFakeVllm, vllmModelList } from '../signal/runtime/testing/fake-vllm-server.ts';
import { createStateStore } from '../signal/state/state-store.ts';
import { startPinKeeper } from './pin-keeper.ts';
import { scraperController } from './services.ts';

const metrics = readFileSync(
  new URL('../signal/runtime/vllm/fixtures/vllm-0.10.0-v1-engine0.prom', import.meta.url),
  'utf8',
);

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setup(t: { after(fn: () => unknown): void }, retryMs: number, settleMs = 10_000) {
  const vllm = await startFakeVllm({ metrics, models: vllmModelList(['llama']) });
  vllm.loraRoutes = true;
  const scraper = createRuntimeScraper({
    node: 'gpu-1',
    endpoints: [{ name: 'vllm-0', runtime: 'vllm', url: vllm.url }],
    intervalMs: 50,
    timeoutMs: 1000,
    unhealthyAfter: 3,
    store: createStateStore(),
    logger: createLogger('silent'),
  });
  await scraper.scrapeOnce();
  scraper.start();
  const events: Array<{ type: EventType; data: Record<string, string> }> = [];
  const feed = createPolicyFeed();
  const keeper = startPinKeeper({
    nodeId: 'gpu-1',
    nodes: () => [],
    controller: scraperController(scraper),
    policy: feed,
    writer: { recordEvent: async (type, data) => void events.push({ type, data }) },
    logger: createLogger('silent'),
    intervalMs: 50,
    retryMs,
    settleMs,
  });
  t.after(async () => {
    keeper.stop();
    await scraper.stop();
    await vllm.close();
  });
  return { vllm, feed, events };
}

const pinned = (pins: RoutingPolicy['pins']): RoutingPolicy => ({
  ...EMPTY_ROUTING_POLICY,
  revision: 1,
  pins,
});

test('a pinned adapter missing here is loaded from its source, once, and reported', async (t) => {
  // No back-off and a short settle: past it, only the runtime listing the adapter stops a reload.
  const { vllm, feed, events } = await setup(t, 0, 100);
  feed.set(
    pinned([
      { model: 'sql-lora', nodes: ['gpu-1'], mode: 'prefer', source: '/adapters/sql' },
      { model: 'other-lora', nodes: ['gpu-2'], mode: 'prefer', source: '/adapters/other' },
    ]),
  );
  await until('the adapter to load', () => events.length > 0);
  assert.deepEqual([...vllm.loras], [['sql-lora', '/adapters/sql']]);
  assert.equal(events[0]?.type, 'model_loaded');
  assert.equal(events[0]?.data.endpoint, 'gpu-1/vllm-0');
  // Once the runtime lists it, nothing more happens (no second load, which vLLM would refuse).
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(events.length, 1);
  assert.equal(vllm.loras.size, 1);
});

test('a failing load is reported and not retried before its back-off', async (t) => {
  const { vllm, feed, events } = await setup(t, 60_000);
  vllm.loraRoutes = false; // vLLM without VLLM_ALLOW_RUNTIME_LORA_UPDATING: the routes are 404
  feed.set(pinned([{ model: 'sql-lora', nodes: ['gpu-1'], mode: 'require', source: '/adapters/sql' }]));
  await until('the failure', () => events.length > 0);
  assert.equal(events[0]?.type, 'model_failed');
  assert.match(events[0]?.data.error ?? '', /./);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(events.length, 1, 'one try within the back-off');
  assert.equal(vllm.loras.size, 0);
});
