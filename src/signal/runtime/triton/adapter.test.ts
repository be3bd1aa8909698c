/** The Triton adapter against the verbatim §3 samples and a fake Triton (two ports). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createSendRequest } from '../control-http.ts';
import { createGetText } from '../http.ts';
import { parsePrometheus } from '../prometheus/index.ts';
import { ScrapeError } from '../scrape-error.ts';
import { readFixture } from '../testing/fixtures.ts';
import { createTritonAdapter, deriveTriton, repositoryIndexSchema } from './adapter.ts';
import { extractTriton, extractTritonGpus } from './extract.ts';
import { startFakeTriton, type FakeTritonServer } from '../testing/fake-triton-server.ts';

const agent = new Agent();
const getText = createGetText(agent);
const send = createSendRequest(agent, 2000);
const signal = new AbortController().signal;
const PAGE = readFixture(import.meta.url, './fixtures/triton-2.38-datadog-metrics.prom');
const fixtureJson = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
let fake: FakeTritonServer;

before(async () => {
  fake = await startFakeTriton({
    metrics: PAGE,
    models: { densenet_onnx: 'READY', simple: 'READY', resnet: 'UNAVAILABLE' },
  });
});
after(async () => {
  await fake.close();
  await agent.close();
});

const adapter = () =>
  createTritonAdapter({
    endpointId: 'n1/triton',
    node: 'n1',
    url: fake.url,
    metricsUrl: fake.metricsUrl,
    getText,
    send,
    minWindowMs: 0,
  });

/** densenet_onnx moved on by n requests of `us` µs each (request duration, queue 10 µs each). */
const advanced = (n: number, us: number) =>
  PAGE.replace(
    'nv_inference_request_success{model="densenet_onnx",version="1"} 3',
    `nv_inference_request_success{model="densenet_onnx",version="1"} ${3 + n}`,
  )
    .replace(
      'nv_inference_request_duration_us{model="densenet_onnx",version="1"} 1327965',
      `nv_inference_request_duration_us{model="densenet_onnx",version="1"} ${1327965 + n * us}`,
    )
    .replace(
      'nv_inference_queue_duration_us{model="densenet_onnx",version="1"} 145',
      `nv_inference_queue_duration_us{model="densenet_onnx",version="1"} ${145 + n * 10}`,
    )
    .replace(
      'nv_inference_pending_request_count{model="densenet_onnx",version="1"} 0',
      'nv_inference_pending_request_count{model="densenet_onnx",version="1"} 7',
    );

describe('Triton: verbatim samples', () => {
  it('§3.2.1 page: per-model pending and cumulative µs counters, summaries ignored', () => {
    const r = extractTriton(parsePrometheus(PAGE));
    assert.equal(r.get('densenet_onnx')?.pending, 0);
    assert.equal(r.get('densenet_onnx')?.requestUs?.series.values().next().value?.value, 1327965);
    assert.equal(r.get('simple_string')?.pending, 0);
    assert.equal(r.size, 8);
  });

  it('§3.2.1 page: GPU gauges as fractions', () => {
    assert.deepEqual(extractTritonGpus(parsePrometheus(PAGE)), [
      {
        uuid: 'GPU-951eeeeb-d284-d263-688e-d98a5306389b',
        utilization: 0,
        memoryTotalBytes: 16106127360,
        memoryUsedBytes: 266338304,
        memoryUsedFraction: 266338304 / 16106127360,
        powerW: 32.09,
      },
    ]);
  });

  it('§3.1 repository index (versions as strings, reason only when not ready) and server metadata parse', () => {
    const index = repositoryIndexSchema.parse(fixtureJson('repository-index-after-unload.json'));
    assert.deepEqual(
      index.map((e) => [e.name, e.state]),
      [
        ['ensemble_python_resnet50', 'UNAVAILABLE'],
        ['postprocessing', 'READY'],
        ['preprocessing', 'READY'],
        ['resnet50_trt', 'READY'],
      ],
    );
    assert.equal((fixtureJson('triton-2.38-server-metadata.json') as { name: string }).name, 'triton');
  });

  it('turns µs counters into rates and means per request', () => {
    const page = (n: number, us: number) =>
      extractTriton(parsePrometheus(advanced(n, us))).get('densenet_onnx')!;
    const d = deriveTriton(page(0, 0), page(10, 20_000), 5);
    assert.equal(d.requestRate, 2);
    assert.equal(d.meanRequestMs, 20);
    assert.equal(d.meanQueueMs, 0.01);
  });
});

describe('Triton adapter against a fake Triton', () => {
  it('lists repository models with their state and the metrics of each, no invented fields', async () => {
    fake.metrics = PAGE;
    const a = adapter();
    const first = await a.scrape({ signal, now: 0 });
    const byModel = new Map(first.map((s) => [s.model, s]));
    assert.deepEqual(byModel.get('resnet'), {
      endpointId: 'n1/triton',
      endpointUrl: fake.url,
      node: 'n1',
      health: 'healthy',
      model: 'resnet',
      runtime: 'triton',
      loaded: false,
      warming: false,
      protocols: ['kserve-v2'],
      canLoad: true,
      canUnload: true,
      updatedAt: 0,
    });
    assert.equal(byModel.get('densenet_onnx')?.loaded, true);
    assert.equal(byModel.get('simple_string')?.loaded, false); // only in metrics
    fake.metrics = advanced(30, 1000);
    const second = new Map((await a.scrape({ signal, now: 10_000 })).map((s) => [s.model, s]));
    assert.equal(second.get('densenet_onnx')?.requestRate, 3);
    assert.equal(second.get('densenet_onnx')?.queueDepth, 7);
  });

  it('marks a LOADING model as warming', async () => {
    fake.models.set('loading', 'LOADING');
    const states = await adapter().scrape({ signal, now: 0 });
    fake.models.delete('loading');
    const s = states.find((x) => x.model === 'loading');
    assert.deepEqual([s?.loaded, s?.warming], [false, true]);
  });

  it('loads and unloads through the repository extension, with Triton refusals mapped', async () => {
    const a = adapter();
    await a.control!.loadModel('resnet');
    assert.equal(fake.models.get('resnet'), 'READY');
    await a.control!.unloadModel('resnet');
    assert.equal(fake.models.get('resnet'), 'UNAVAILABLE');
    await assert.rejects(a.control!.loadModel('ghost'), { code: 'not_found' });
    fake.controlMode = 'none';
    await assert.rejects(a.control!.loadModel('resnet'), { code: 'invalid_request' });
    fake.controlMode = 'explicit';
  });

  const failures: Array<[string, () => void, string]> = [
    ['a 5xx metrics port', () => (fake.metricsServer.mode = 'error500'), 'http_status'],
    ['garbage metrics', () => (fake.metricsServer.mode = 'garbage'), 'parse'],
    ['truncated metrics', () => (fake.metricsServer.mode = 'truncate'), 'body'],
  ];
  for (const [what, arrange, reason] of failures) {
    it(`fails with reason ${reason} on ${what}`, async () => {
      arrange();
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
