/**
 * Endpoint health for every runtime: each adapter behind the real scraper, against its fake server,
 * goes stale then unhealthy on 5xx, garbage, truncated bodies and timeouts, and comes back by itself.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RuntimeKind } from '../../core/types.ts';
import { createLogger } from '../../observability/log.ts';
import { createStateStore } from '../state/state-store.ts';
import { startFakeOvms } from './testing/fake-ovms-server.ts';
import { createRuntimeScraper } from './scraper.ts';
import { startFakeSglang } from './testing/fake-sglang-server.ts';
import type { FakeMode } from './testing/fake-http.ts';
import { readFixture } from './testing/fixtures.ts';
import { startFakeTfServing } from './testing/fake-tfserving-server.ts';
import { startFakeTgi } from './testing/fake-tgi-server.ts';
import { startFakeTorchServe } from './testing/fake-torchserve-server.ts';
import { startFakeTriton } from './testing/fake-triton-server.ts';
import type { RuntimeEndpoint } from './types.ts';
import { startFakeVllm, vllmModelList } from './testing/fake-vllm-server.ts';
import { vllmPage } from './vllm/page-builder.ts';

interface Setup {
  endpoint: Omit<RuntimeEndpoint, 'name' | 'runtime'>;
  /** The server whose metrics the failure modes break. */
  metrics: { mode: FakeMode };
  close(): Promise<void>;
}

const fixture = (path: string) => readFixture(import.meta.url, path);
const closers: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(closers.map((c) => c()));
});

const SETUPS: Record<RuntimeKind, () => Promise<Setup>> = {
  vllm: async () => {
    const f = await startFakeVllm({ metrics: vllmPage('m', [{ running: 1 }]), models: vllmModelList(['m']) });
    // The vLLM fake predates fake-http; its modes are a superset of FakeMode.
    return { endpoint: { url: f.url }, metrics: f as unknown as { mode: FakeMode }, close: () => f.close() };
  },
  sglang: async () => {
    const f = await startFakeSglang({
      metrics: fixture('./sglang/fixtures/sglang-production-metrics-doc.prom'),
    });
    return { endpoint: { url: f.url }, metrics: f, close: () => f.close() };
  },
  tgi: async () => {
    const f = await startFakeTgi({ metrics: fixture('./tgi/fixtures/tgi-datadog-payload.prom') });
    return { endpoint: { url: f.url }, metrics: f, close: () => f.close() };
  },
  triton: async () => {
    const f = await startFakeTriton({
      metrics: fixture('./triton/fixtures/triton-2.38-datadog-metrics.prom'),
      models: { densenet_onnx: 'READY' },
    });
    return {
      endpoint: { url: f.url, metricsUrl: f.metricsUrl },
      metrics: f.metricsServer,
      close: () => f.close(),
    };
  },
  torchserve: async () => {
    const f = await startFakeTorchServe({
      metrics: fixture('./torchserve/fixtures/torchserve-0.11-metrics.prom'),
      models: { 'flan-t5-small': { url: 'f.mar', workers: ['READY'], pending: 0 } },
    });
    return {
      endpoint: { url: f.url, managementUrl: f.managementUrl, metricsUrl: f.metricsUrl },
      metrics: f.metricsServer,
      close: () => f.close(),
    };
  },
  tfserving: async () => {
    const f = await startFakeTfServing({ models: { resnet: 'AVAILABLE' }, metrics: '# TYPE x gauge\nx 1\n' });
    return { endpoint: { url: f.url, models: ['resnet'] }, metrics: f, close: () => f.close() };
  },
  ovms: async () => {
    const f = await startFakeOvms({
      models: { resnet: 'AVAILABLE' },
      metrics: fixture('./ovms/fixtures/ovms-requests-success-doc.prom'),
    });
    return { endpoint: { url: f.url }, metrics: f, close: () => f.close() };
  },
};

describe('scraper health for every runtime', () => {
  for (const [runtime, start] of Object.entries(SETUPS) as Array<[RuntimeKind, () => Promise<Setup>]>) {
    it(`${runtime}: healthy → stale → unhealthy on 5xx, garbage, truncation, timeout → healthy again`, async () => {
      const setup = await start();
      closers.push(() => setup.close());
      const store = createStateStore();
      const scraper = createRuntimeScraper({
        node: 'n1',
        endpoints: [{ name: 'ep', runtime, ...setup.endpoint }],
        intervalMs: 1000,
        timeoutMs: 250,
        unhealthyAfter: 2,
        store,
        logger: createLogger('silent'),
      });
      try {
        const step = async (mode: FakeMode) => {
          setup.metrics.mode = mode;
          await scraper.scrapeOnce();
          const [status] = scraper.endpoints();
          return [
            status?.health,
            status?.lastError?.reason,
            store.list().every((s) => s.health === status?.health),
          ];
        };
        assert.deepEqual((await step('ok')).slice(0, 1), ['healthy']);
        assert.ok(store.list().length > 0, 'records after a good scrape');
        assert.deepEqual(await step('error500'), ['stale', 'http_status', true]);
        assert.deepEqual(await step('garbage'), ['unhealthy', 'parse', true]);
        assert.deepEqual(await step('truncate'), ['unhealthy', 'body', true]);
        assert.deepEqual(await step('hang'), ['unhealthy', 'timeout', true]);
        const [health] = await step('ok');
        assert.equal(health, 'healthy');
        assert.ok(store.list().every((s) => s.health === 'healthy' && s.runtime === runtime));
      } finally {
        await scraper.stop();
      }
    });
  }

  it('gives the control of endpoints whose runtime can load models, and none otherwise', async () => {
    const triton = await SETUPS.triton();
    closers.push(() => triton.close());
    const scraper = createRuntimeScraper({
      node: 'n1',
      endpoints: [
        { name: 'tr', runtime: 'triton', ...triton.endpoint },
        { name: 'tgi', runtime: 'tgi', url: 'http://127.0.0.1:1' },
      ],
      intervalMs: 1000,
      timeoutMs: 250,
      unhealthyAfter: 2,
      store: createStateStore(),
      logger: createLogger('silent'),
    });
    try {
      const control = scraper.control('tr');
      assert.ok(control);
      await control.loadModel('densenet_onnx');
      assert.equal(scraper.control('tgi'), undefined);
      assert.equal(scraper.control('nope'), undefined);
      assert.deepEqual(scraper.engines('tr'), []);
    } finally {
      await scraper.stop();
    }
  });
});
