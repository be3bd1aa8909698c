/** The OVMS adapter against the §4.3 metrics sample and a fake OVMS. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createGetText } from '../http.ts';
import { parsePrometheus } from '../prometheus/index.ts';
import { ScrapeError } from '../scrape-error.ts';
import { readFixture } from '../testing/fixtures.ts';
import { createOvmsAdapter, extractOvms } from './adapter.ts';
import { startFakeOvms, type FakeOvms } from '../testing/fake-ovms-server.ts';

const agent = new Agent();
const getText = createGetText(agent);
const signal = new AbortController().signal;
const DOC = readFixture(import.meta.url, './fixtures/ovms-requests-success-doc.prom');
let fake: FakeOvms;

before(async () => {
  fake = await startFakeOvms({ models: { resnet: 'AVAILABLE', face: 'LOADING' } });
});
after(async () => {
  await fake.close();
  await agent.close();
});

const page = (success: number) =>
  `${DOC.replace(
    'ovms_requests_success{api="KServe",interface="REST",method="ModelInfer",name="resnet",version="1"} 0',
    `ovms_requests_success{api="KServe",interface="REST",method="ModelInfer",name="resnet",version="1"} ${success}`,
  )}# TYPE ovms_current_requests gauge\novms_current_requests{name="resnet",version="1"} 6\n` +
  `# TYPE ovms_infer_req_active gauge\novms_infer_req_active{name="resnet",version="1"} 2\n` +
  `# TYPE ovms_infer_req_queue_size gauge\novms_infer_req_queue_size{name="resnet",version="1"} 4\n`;

const adapter = () =>
  createOvmsAdapter({ endpointId: 'n1/ovms', node: 'n1', url: fake.url, getText, minWindowMs: 0 });

describe('OVMS adapter', () => {
  it('§4.3 doc sample (indented lines): counts inference methods only, ModelReady without version kept out', () => {
    const r = extractOvms(parsePrometheus(DOC)).get('resnet');
    assert.equal(r?.success?.series.size, 3); // KServe gRPC+REST ModelInfer, TFS REST Predict
  });

  it('lists models from /v1/config; metrics off → lifecycle only', async () => {
    fake.metrics = undefined;
    const states = await adapter().scrape({ signal, now: 1 });
    assert.deepEqual(
      states.map((s) => [s.model, s.loaded, s.warming, s.queueDepth]),
      [
        ['resnet', true, false, undefined],
        ['face', false, true, undefined],
      ],
    );
    assert.deepEqual(states[0]?.protocols, ['kserve-v2', 'tfserving']);
  });

  it('reads running, waiting, fullness and request rate from the metrics', async () => {
    const a = adapter();
    fake.metrics = page(10);
    await a.scrape({ signal, now: 0 });
    fake.metrics = page(60);
    const [s] = await a.scrape({ signal, now: 10_000 });
    assert.deepEqual([s?.running, s?.queueDepth, s?.batchFullness, s?.requestRate], [2, 4, 0.5, 5]);
  });

  for (const [mode, reason] of [
    ['error500', 'http_status'],
    ['garbage', 'parse'],
    ['truncate', 'body'],
  ] as const) {
    it(`fails with reason ${reason} on a ${mode} /metrics`, async () => {
      fake.metrics = page(1);
      fake.mode = mode;
      try {
        await assert.rejects(
          adapter().scrape({ signal, now: 0 }),
          (e: unknown) => e instanceof ScrapeError && e.reason === reason,
        );
      } finally {
        fake.mode = 'ok';
      }
    });
  }
});
