/** The TF Serving adapter against the §4.2 status sample and a fake TF Serving. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createGetText } from '../http.ts';
import { ScrapeError } from '../scrape-error.ts';
import { createTfServingAdapter } from './adapter.ts';
import { startFakeTfServing, type FakeTfServing } from '../testing/fake-tfserving-server.ts';
import { lifecycleOf, modelStatusSchema } from './model-status.ts';

const agent = new Agent();
const getText = createGetText(agent);
const signal = new AbortController().signal;
let fake: FakeTfServing;

before(async () => {
  fake = await startFakeTfServing({ models: { resnet: 'AVAILABLE', bert: 'LOADING' } });
});
after(async () => {
  await fake.close();
  await agent.close();
});

const page = (requests: number, below5ms: number) =>
  `# TYPE :tensorflow:serving:request_count counter\n:tensorflow:serving:request_count{model_name="resnet",status="OK"} ${requests}\n` +
  `# TYPE :tensorflow:serving:request_latency histogram\n` +
  `:tensorflow:serving:request_latency_bucket{API="predict",entrypoint="REST",model_name="resnet",le="5000"} ${below5ms}\n` +
  `:tensorflow:serving:request_latency_bucket{API="predict",entrypoint="REST",model_name="resnet",le="+Inf"} ${below5ms}\n`;

const adapter = (models: string[]) =>
  createTfServingAdapter({
    endpointId: 'n1/tfs',
    node: 'n1',
    url: fake.url,
    models,
    getText,
    minWindowMs: 0,
  });

describe('TF Serving adapter', () => {
  it('§4.2 model status sample: one AVAILABLE version → loaded', () => {
    const body = readFileSync(new URL('./fixtures/model-status.json', import.meta.url), 'utf8');
    assert.deepEqual(lifecycleOf(modelStatusSchema.parse(JSON.parse(body))), {
      loaded: true,
      warming: false,
    });
  });

  it('asks for each configured model; unknown → not loaded; monitoring off → no rates', async () => {
    fake.metrics = undefined;
    const states = await adapter(['resnet', 'bert', 'ghost']).scrape({ signal, now: 3 });
    assert.deepEqual(
      states.map((s) => [s.model, s.loaded, s.warming, s.requestRate]),
      [
        ['resnet', true, false, undefined],
        ['bert', false, true, undefined],
        ['ghost', false, false, undefined],
      ],
    );
    assert.deepEqual(states[0]?.protocols, ['tfserving']);
  });

  it('reads rates and p95 (µs histogram) from the monitoring page', async () => {
    const a = adapter(['resnet']);
    fake.metrics = page(10, 10);
    await a.scrape({ signal, now: 0 });
    fake.metrics = page(30, 30);
    const [s] = await a.scrape({ signal, now: 10_000 });
    assert.equal(s?.requestRate, 2);
    assert.equal(s?.e2eP95Ms, 4.75);
  });

  for (const [mode, reason] of [
    ['error500', 'http_status'],
    ['garbage', 'parse'],
    ['truncate', 'body'],
  ] as const) {
    it(`fails with reason ${reason} on a ${mode} monitoring page`, async () => {
      fake.metrics = page(1, 1);
      fake.mode = mode;
      try {
        await assert.rejects(
          adapter(['resnet']).scrape({ signal, now: 0 }),
          (e: unknown) => e instanceof ScrapeError && e.reason === reason,
        );
      } finally {
        fake.mode = 'ok';
      }
    });
  }
});
