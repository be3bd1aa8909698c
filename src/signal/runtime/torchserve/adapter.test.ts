/** The TorchServe adapter against the verbatim §4.1 samples and a fake TorchServe (three ports). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createSendRequest } from '../control-http.ts';
import { createGetText } from '../http.ts';
import { parsePrometheus } from '../prometheus/index.ts';
import { ScrapeError } from '../scrape-error.ts';
import { readFixture } from '../testing/fixtures.ts';
import { createTorchServeAdapter, describeSchema, extractTorchServe } from './adapter.ts';
import { startFakeTorchServe, type FakeTorchServe } from '../testing/fake-torchserve-server.ts';

const agent = new Agent();
const getText = createGetText(agent);
const send = createSendRequest(agent, 2000);
const signal = new AbortController().signal;
const PAGE = readFixture(import.meta.url, './fixtures/torchserve-0.11-metrics.prom');
let fake: FakeTorchServe;

before(async () => {
  fake = await startFakeTorchServe({
    metrics: PAGE,
    models: { 'flan-t5-small': { url: 'flan.mar', workers: ['READY', 'READY'], pending: 3 } },
  });
});
after(async () => {
  await fake.close();
  await agent.close();
});

const adapter = () =>
  createTorchServeAdapter({
    endpointId: 'n1/ts',
    node: 'n1',
    url: fake.url,
    managementUrl: fake.managementUrl,
    metricsUrl: fake.metricsUrl,
    getText,
    send,
    minWindowMs: 0,
  });

describe('TorchServe: verbatim samples', () => {
  it('§4.1 metrics: frontend counters by model_name, trailing commas, host gauges ignored', () => {
    const r = extractTorchServe(parsePrometheus(PAGE)).get('flan-t5-small');
    assert.equal(r?.requests?.series.values().next().value?.value, 4);
    assert.equal(r?.latencyUs?.series.values().next().value?.value, 2511000.058);
  });

  it('§4.1 describe response parses with workers and job queue', () => {
    const body = readFileSync(new URL('./fixtures/describe-noop.json', import.meta.url), 'utf8');
    const [noop] = describeSchema.parse(JSON.parse(body));
    assert.deepEqual([noop?.workers[0]?.status, noop?.jobQueueStatus?.pendingRequests], ['READY', 0]);
  });
});

describe('TorchServe adapter against a fake TorchServe', () => {
  it('lists models from the management API with workers and queue, rates from metrics', async () => {
    fake.metrics = PAGE;
    const a = adapter();
    const [first] = await a.scrape({ signal, now: 0 });
    assert.deepEqual(first, {
      endpointId: 'n1/ts',
      endpointUrl: fake.url,
      node: 'n1',
      health: 'healthy',
      model: 'flan-t5-small',
      runtime: 'torchserve',
      loaded: true,
      warming: false,
      queueDepth: 3,
      protocols: ['torchserve'],
      canLoad: true,
      canUnload: true,
      updatedAt: 0,
    });
    fake.metrics = PAGE.replace(
      'ts_inference_requests_total{model_name="flan-t5-small",model_version="default",hostname="flan-small-00001-deployment-6fbc676dc6-tcd7h",} 4.0',
      'ts_inference_requests_total{model_name="flan-t5-small",model_version="default",hostname="flan-small-00001-deployment-6fbc676dc6-tcd7h",} 14.0',
    );
    const [second] = await a.scrape({ signal, now: 5000 });
    assert.equal(second?.requestRate, 2);
  });

  it('registers and unregisters through the management API, mapping its errors', async () => {
    const a = adapter();
    await a.control!.loadModel('noop', { source: 'noop.mar', config: { initial_workers: '2' } });
    const states = await a.scrape({ signal, now: 0 });
    assert.equal(states.find((s) => s.model === 'noop')?.loaded, true);
    await assert.rejects(a.control!.loadModel('noop', { source: 'noop.mar' }), { code: 'invalid_request' });
    await a.control!.unloadModel('noop');
    await assert.rejects(a.control!.unloadModel('noop'), { code: 'not_found' });
  });

  it('leaves rates absent when metrics are off (404), and warms while workers load', async () => {
    fake.models.set('slow', { url: 's.mar', workers: ['LOADING'], pending: 0 });
    const a = createTorchServeAdapter({
      endpointId: 'n1/ts',
      node: 'n1',
      url: fake.url,
      managementUrl: fake.managementUrl,
      metricsUrl: `${fake.metricsServer.url}/nothing`,
      getText,
    });
    const states = await a.scrape({ signal, now: 0 });
    fake.models.delete('slow');
    const slow = states.find((s) => s.model === 'slow');
    assert.deepEqual([slow?.loaded, slow?.warming, slow?.requestRate], [false, true, undefined]);
  });

  for (const [mode, reason] of [
    ['error500', 'http_status'],
    ['garbage', 'parse'],
    ['truncate', 'body'],
  ] as const) {
    it(`fails with reason ${reason} on a ${mode} metrics port`, async () => {
      fake.metricsServer.mode = mode;
      try {
        await assert.rejects(
          adapter().scrape({ signal, now: 0 }),
          (e: unknown) => e instanceof ScrapeError && e.reason === reason,
        );
      } finally {
        fake.metricsServer.mode = 'ok';
      }
    });
  }
});
