/** The runtime scraper against real fake vLLM servers: health transitions, failures, metrics. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ModelState, RuntimeKind } from '../../core/types.ts';
import { createLogger } from '../../observability/log.ts';
import { createMeshMetrics } from '../../observability/metrics.ts';
import { createStateStore, type StateEvent } from '../state/state-store.ts';
import { createRuntimeScraper, type RuntimeScraperOptions } from './scraper.ts';
import { closedPort, startFakeVllm, vllmModelList, type FakeVllmServer } from './testing/fake-vllm-server.ts';
import { vllmPage } from './vllm/page-builder.ts';

const logger = createLogger('silent');
let fake: FakeVllmServer;

before(async () => {
  fake = await startFakeVllm();
});
after(() => fake.close());

function setup(overrides: Partial<RuntimeScraperOptions> = {}) {
  fake.mode = 'ok';
  fake.metrics = vllmPage('m', [{ running: 2, waiting: 1, kvUsage: 0.25, success: 10 }]);
  fake.models = vllmModelList(['m']);
  fake.hits.clear();
  const store = createStateStore();
  const metrics = createMeshMetrics();
  const events: StateEvent[] = [];
  store.watch((e) => events.push(e));
  const scraper = createRuntimeScraper({
    node: 'n1',
    endpoints: [{ name: 'v0', runtime: 'vllm', url: fake.url, gpuType: 'H100' }],
    intervalMs: 1000,
    timeoutMs: 300,
    unhealthyAfter: 3,
    store,
    metrics,
    logger,
    ...overrides,
  });
  const counts = async (metric: 'scrapes' | 'scrapeErrors') =>
    Object.fromEntries(
      (await metrics[metric].get()).values.map((v) => [Object.values(v.labels).join('|'), v.value]),
    );
  return { store, metrics, events, scraper, counts };
}

const healthOf = (store: ReturnType<typeof createStateStore>) =>
  store.list().map((s: ModelState) => s.health);

describe('runtime scraper', () => {
  it('upserts a healthy record per model and counts the scrape', async () => {
    const { store, scraper, counts, metrics } = setup();
    await scraper.scrapeOnce();
    const [state] = store.list();
    assert.equal(state?.endpointId, 'n1/v0');
    assert.equal(state?.health, 'healthy');
    assert.equal(state?.running, 2);
    assert.equal(state?.gpuType, 'H100');
    assert.deepEqual(await counts('scrapes'), { 'n1/v0|ok': 1 });
    const queue = (await metrics.modelQueueDepth.get()).values;
    assert.deepEqual(
      queue.map((v) => [v.labels, v.value]),
      [[{ node: 'n1', endpoint: 'n1/v0', model: 'm' }, 1]],
    );
    const [status] = scraper.endpoints();
    assert.equal(status?.health, 'healthy');
    assert.deepEqual(status?.models, ['m']);
    await scraper.stop();
  });

  it('goes stale, then unhealthy, keeping the last records, and recovers by itself', async () => {
    const { store, scraper, counts, events, metrics } = setup();
    await scraper.scrapeOnce();
    const healthy = store.list()[0];
    events.length = 0;

    fake.mode = 'error500';
    await scraper.scrapeOnce();
    assert.deepEqual(healthOf(store), ['stale']);
    assert.equal(store.list()[0]?.updatedAt, healthy?.updatedAt, 'stale records keep the time of their data');
    assert.equal(store.list()[0]?.running, 2);
    assert.equal((await metrics.modelHealthy.get()).values[0]?.value, 0);

    fake.mode = 'garbage';
    await scraper.scrapeOnce();
    assert.deepEqual(healthOf(store), ['stale']);
    fake.mode = 'truncate';
    await scraper.scrapeOnce();
    assert.deepEqual(healthOf(store), ['unhealthy']);
    assert.equal(scraper.endpoints()[0]?.consecutiveFailures, 3);
    assert.equal(scraper.endpoints()[0]?.lastError?.reason, 'body');
    // Watchers hear of transitions, not of every failed scrape.
    assert.deepEqual(
      events.map((e) => e.state.health),
      ['stale', 'unhealthy'],
    );

    fake.mode = 'ok';
    await scraper.scrapeOnce();
    assert.deepEqual(healthOf(store), ['healthy']);
    assert.equal(scraper.endpoints()[0]?.consecutiveFailures, 0);
    assert.deepEqual(await counts('scrapeErrors'), {
      'n1/v0|http_status': 1,
      'n1/v0|parse': 1,
      'n1/v0|body': 1,
    });
    assert.deepEqual(await counts('scrapes'), { 'n1/v0|ok': 2, 'n1/v0|error': 3 });
    await scraper.stop();
  });

  it('times out on a server that never answers, and never runs two scrapes of one endpoint at once', async () => {
    const { store, scraper, counts } = setup({ timeoutMs: 150 });
    await scraper.scrapeOnce();
    fake.mode = 'hang';
    fake.hits.clear();
    const started = Date.now();
    await Promise.all([scraper.scrapeOnce(), scraper.scrapeOnce()]);
    assert.ok(Date.now() - started < 1000);
    assert.equal(fake.hits.get('/metrics'), 1);
    assert.deepEqual(healthOf(store), ['stale']);
    assert.equal((await counts('scrapeErrors'))['n1/v0|timeout'], 1);
    await scraper.stop();
  });

  it('lists an endpoint that was never up, with no records', async () => {
    const url = await closedPort();
    const { store, scraper, counts } = setup({
      endpoints: [{ name: 'down', runtime: 'vllm', url }],
      unhealthyAfter: 2,
    });
    assert.equal(scraper.endpoints()[0]?.health, 'unknown');
    await scraper.scrapeOnce();
    assert.equal(scraper.endpoints()[0]?.health, 'stale');
    await scraper.scrapeOnce();
    const [status] = scraper.endpoints();
    assert.equal(status?.health, 'unhealthy');
    assert.equal(status?.lastError?.reason, 'connect');
    assert.equal(status?.lastSuccessAt, undefined);
    assert.equal(store.list().length, 0);
    assert.equal((await counts('scrapeErrors'))['n1/down|connect'], 2);
    await scraper.stop();
  });

  it('removes the records of models that disappeared', async () => {
    const { store, scraper, metrics } = setup();
    fake.models = vllmModelList(['m', 'other']);
    await scraper.scrapeOnce();
    assert.deepEqual(
      store
        .list()
        .map((s) => s.model)
        .sort(),
      ['m', 'other'],
    );
    fake.models = vllmModelList(['m']);
    await scraper.scrapeOnce();
    assert.deepEqual(
      store.list().map((s) => s.model),
      ['m'],
    );
    assert.deepEqual(
      (await metrics.modelHealthy.get()).values.map((v) => v.labels.model),
      ['m'],
    );
    await scraper.stop();
  });

  it('computes rates over the injected clock', async () => {
    let now = 1_000_000;
    const { store, scraper } = setup({ clock: () => now });
    await scraper.scrapeOnce();
    fake.metrics = vllmPage('m', [{ running: 2, success: 40 }]);
    now += 5000;
    await scraper.scrapeOnce();
    assert.equal(store.list()[0]?.requestRate, 6);
    assert.equal(store.list()[0]?.updatedAt, now);
    await scraper.stop();
  });

  it('scrapes on its interval once started, and stops with a scrape in flight', async () => {
    const { store, scraper } = setup({ intervalMs: 50, timeoutMs: 5000 });
    scraper.start();
    await new Promise((r) => setTimeout(r, 180));
    assert.ok((fake.hits.get('/metrics') ?? 0) >= 2);
    assert.equal(store.list()[0]?.health, 'healthy');
    fake.mode = 'hang';
    await new Promise((r) => setTimeout(r, 80));
    const started = Date.now();
    await scraper.stop();
    assert.ok(Date.now() - started < 1000);
    assert.equal(store.list()[0]?.health, 'healthy', 'a scrape cut short by stop() is not a failure');
    await scraper.scrapeOnce(); // a no-op once stopped
  });

  it('lists a runtime without an adapter and survives a throwing store listener', async () => {
    const { store, scraper } = setup({
      endpoints: [
        // Every RuntimeKind has an adapter now; a kind the registry does not know still lists.
        { name: 'tgi', runtime: 'mystery' as RuntimeKind, url: 'http://127.0.0.1:1' },
        { name: 'v0', runtime: 'vllm', url: fake.url },
      ],
    });
    store.watch(() => {
      throw new Error('listener bug');
    });
    await scraper.scrapeOnce();
    const [tgi, v0] = scraper.endpoints();
    assert.equal(tgi?.health, 'unknown');
    assert.equal(tgi?.lastError?.reason, 'unsupported_runtime');
    assert.equal(v0?.health, 'healthy');
    await scraper.stop();
  });

  it('rejects a config it cannot run', () => {
    assert.throws(
      () =>
        setup({
          endpoints: [
            { name: 'a', runtime: 'vllm', url: fake.url },
            { name: 'a', runtime: 'vllm', url: fake.url },
          ],
        }),
      /duplicate/,
    );
    assert.throws(() => setup({ intervalMs: 0 }), /intervalMs/);
  });
});
