/** The vLLM adapter against real HTTP fakes: verbatim pages, rate windows, resets, engines, LoRA. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import type { ModelState } from '../../../core/types.ts';
import { createGetText } from '../http.ts';
import { ScrapeError } from '../scrape-error.ts';
import { readFixture } from '../testing/fixtures.ts';
import { createVllmAdapter } from './adapter.ts';
import { startFakeVllm, vllmModelList, type FakeVllmServer } from '../testing/fake-vllm-server.ts';
import { vllmPage, type EnginePage } from './page-builder.ts';

const agent = new Agent();
const getText = createGetText(agent);
const signal = new AbortController().signal;
let fake: FakeVllmServer;

before(async () => {
  fake = await startFakeVllm();
});
after(async () => {
  await fake.close();
  await agent.close();
});

const adapterFor = (gpuType?: string) =>
  createVllmAdapter({
    endpointId: 'n1/vllm-0',
    node: 'n1',
    url: `${fake.url}/`,
    getText,
    minWindowMs: 0,
    ...(gpuType ? { gpuType } : {}),
  });

const firsts = (scrapes: ModelState[][]) => scrapes.map((states) => states[0]);

/** Serves each page in turn and scrapes it at t = 0, 10 s, 20 s, … */
async function scrapeSeries(model: string, pages: EnginePage[][], models = vllmModelList([model])) {
  fake.mode = 'ok';
  fake.models = models;
  const adapter = adapterFor();
  const out: ModelState[][] = [];
  for (const [i, engines] of pages.entries()) {
    fake.metrics = vllmPage(model, engines);
    out.push(await adapter.scrape({ signal, now: 1_000_000 + i * 10_000 }));
  }
  return out;
}

describe('vLLM adapter: verbatim pages', () => {
  it('§1.4.3 page + §1.5.1-style model list → one healthy, loaded record with no invented fields', async () => {
    fake.mode = 'ok';
    fake.metrics = readFixture(import.meta.url, './fixtures/vllm-v1-era-no-engine.commented.txt', {
      uncomment: true,
    });
    fake.models = vllmModelList(['Qwen/Qwen3-0.6B']);
    const [state, ...rest] = await adapterFor('H100').scrape({ signal, now: 42 });
    assert.equal(rest.length, 0);
    assert.deepEqual(state, {
      endpointId: 'n1/vllm-0',
      endpointUrl: fake.url,
      node: 'n1',
      model: 'Qwen/Qwen3-0.6B',
      runtime: 'vllm',
      health: 'healthy',
      loaded: true,
      warming: false,
      queueDepth: 0,
      running: 0,
      kvCacheUsage: 0,
      kvBlockSize: 16,
      kvBlocksTotal: 2340,
      // The page's lora_requests_info names no adapter: known to be none, so [] rather than absent.
      loraAdapters: [],
      protocols: ['openai'],
      canLoad: false,
      canUnload: false,
      gpuType: 'H100',
      updatedAt: 42,
    });
  });

  it('§1.4.1 page with the verbatim /v1/models of another model: both listed, loaded as the list says', async () => {
    fake.mode = 'ok';
    fake.metrics = readFixture(import.meta.url, './fixtures/vllm-0.10.0-v1-engine0.prom');
    fake.models = readFixture(import.meta.url, './fixtures/models-apertus.json');
    const states = await adapterFor().scrape({ signal, now: 1 });
    assert.deepEqual(
      states.map((s) => [s.model, s.loaded, s.kvCacheUsage]),
      [
        // Listed without series of its own: it shares the server's only engine, so it reads that model's signals.
        ['swiss-ai/Apertus-8B-Instruct-2509', true, 9.75010481363281e-6],
        ['zai-org/GLM-4.5', false, 9.75010481363281e-6],
      ],
    );
  });

  it('the 2023 model list (no max_model_len) and no vllm series: a loaded record with no signals', async () => {
    fake.mode = 'ok';
    fake.metrics = readFixture(import.meta.url, './fixtures/vllm-http-instrumentator.txt', {
      dropShell: true,
    });
    fake.models = readFixture(import.meta.url, './fixtures/models-mistral-2023.json');
    const [state] = await adapterFor().scrape({ signal, now: 1 });
    assert.equal(state?.model, 'Mistral-7B-Instruct-v0.1/');
    assert.equal(state?.loaded, true);
    assert.equal('queueDepth' in state, false);
  });

  it('reads an OpenMetrics page by its Content-Type', async () => {
    fake.mode = 'ok';
    fake.metrics = readFixture(
      import.meta.url,
      '../prometheus/fixtures/prometheus-client-0.26-openmetrics.prom',
    );
    fake.metricsContentType = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
    fake.models = vllmModelList(['m']);
    try {
      const [state] = await adapterFor().scrape({ signal, now: 1 });
      assert.equal(state?.running, 3);
    } finally {
      fake.metricsContentType = 'text/plain; version=0.0.4; charset=utf-8';
    }
  });
});

describe('vLLM adapter: windows', () => {
  it('computes rates, prefix hit rate and p95s from the deltas of two scrapes', async () => {
    const first: EnginePage = {
      success: 100,
      prompt: 5000,
      generation: 1000,
      prefixHits: 50,
      prefixQueries: 100,
      ttft: [0],
      e2e: [0],
    };
    // 20 more requests: TTFT 10 in (0.5, 0.75], 10 in (0.75, 1.0]; e2e all in (1.0, 1.5].
    const ttft = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 20];
    const e2e = [0, 0, 0, 0, 20];
    const second: EnginePage = {
      success: 120,
      prompt: 6000,
      generation: 1500,
      prefixHits: 125,
      prefixQueries: 200,
      ttft,
      e2e,
    };
    const [a, b] = firsts(await scrapeSeries('m', [[first], [second]]));
    assert.equal(a?.requestRate, undefined, 'no rate from a single scrape');
    assert.equal(b?.requestRate, 2);
    assert.equal(b?.tokenRate, 150);
    assert.equal(b?.prefixCacheHitRate, 0.75);
    // rank 19 of 20 falls in (0.75, 1.0] holding ranks 11..20: 0.75 + 0.25 * 9/10.
    assert.ok(Math.abs(b.ttftP95Ms! - 975) < 1e-9);
    assert.ok(Math.abs(b.e2eP95Ms! - (1000 + 500 * 0.95)) < 1e-9);
  });

  it('skips the window after a counter reset, then measures from the new baseline', async () => {
    const pages: EnginePage[][] = [
      [{ success: 500, prompt: 9000, generation: 9000, ttft: [50] }],
      [{ success: 3, prompt: 30, generation: 30, ttft: [3] }],
      [{ success: 13, prompt: 130, generation: 30, ttft: [13] }],
    ];
    const [, reset, after] = firsts(await scrapeSeries('m', pages));
    assert.equal(reset?.requestRate, undefined);
    assert.equal(reset?.tokenRate, undefined);
    assert.equal(reset?.ttftP95Ms, undefined);
    assert.equal(after?.requestRate, 1);
    assert.equal(after?.tokenRate, 10);
    assert.ok(after?.ttftP95Ms !== undefined);
  });

  it('treats a changed _created as a restart even when the counter went up', async () => {
    const [, b] = firsts(
      await scrapeSeries('m', [[{ success: 5, created: 1.7e9 }], [{ success: 50, created: 1.8e9 }]]),
    );
    assert.equal(b?.requestRate, undefined);
  });

  it('aggregates data-parallel engines into one record', async () => {
    const e = (engine: string, success: number, ttft: number[], running: number): EnginePage => ({
      engine,
      success,
      ttft,
      running,
      kvUsage: 0.5,
      numGpuBlocks: 100,
    });
    const [a, b] = firsts(
      await scrapeSeries('dp', [
        [e('0', 10, [0], 1), e('1', 20, [0], 2)],
        [e('0', 30, [0, 0, 0, 0, 0, 0, 0, 0, 20], 3), e('1', 40, [0, 0, 0, 0, 0, 0, 0, 20], 4)],
      ]),
    );
    assert.equal(a?.running, 3);
    assert.equal(b?.running, 7);
    assert.equal(b?.requestRate, 4);
    assert.equal(b?.kvBlocksTotal, 200);
    // 40 TTFTs: 20 in (0.08, 0.1], 20 in (0.1, 0.25]; rank 38 → 0.1 + 0.15 * 18/20.
    assert.ok(Math.abs(b.ttftP95Ms! - 235) < 1e-9);
  });

  it('leaves p95s absent for a window without finished requests', async () => {
    const [, b] = firsts(await scrapeSeries('m', [[{ success: 1, ttft: [1] }], [{ success: 1, ttft: [1] }]]));
    assert.equal(b?.requestRate, 0);
    assert.equal(b?.ttftP95Ms, undefined);
  });
});

describe('vLLM adapter: models and health', () => {
  it('gives a LoRA adapter its parent engine signals', async () => {
    const models = vllmModelList(['base', { id: 'sql-lora', parent: 'base' }]);
    const [base, lora] = (await scrapeSeries('base', [[{ running: 4, waiting: 2 }]], models))[0] ?? [];
    assert.deepEqual(
      [base?.model, base?.running, lora?.model, lora?.running, lora?.queueDepth],
      ['base', 4, 'sql-lora', 4, 2],
    );
  });

  it('marks warming when /health fails while the server answers', async () => {
    fake.mode = 'health503';
    fake.metrics = vllmPage('m', [{ running: 1 }]);
    fake.models = vllmModelList(['m']);
    const [state] = await adapterFor().scrape({ signal, now: 1 });
    assert.equal(state?.warming, true);
    assert.equal(state?.health, 'healthy');
    fake.mode = 'ok';
  });

  const failures: Array<[string, () => void, string]> = [
    ['a 5xx from /metrics', () => (fake.mode = 'error500'), 'http_status'],
    ['an HTML /metrics page', () => (fake.mode = 'garbage'), 'parse'],
    ['a truncated /metrics body', () => (fake.mode = 'truncate'), 'body'],
    [
      'a /v1/models that is not a list',
      () => ((fake.mode = 'ok'), (fake.models = '{"detail":"nope"}')),
      'parse',
    ],
  ];
  for (const [what, arrange, reason] of failures) {
    it(`fails with reason ${reason} on ${what}`, async () => {
      fake.metrics = vllmPage('m', [{ running: 1 }]);
      fake.models = vllmModelList(['m']);
      arrange();
      await assert.rejects(
        adapterFor().scrape({ signal, now: 1 }),
        (err: unknown) => err instanceof ScrapeError && err.reason === reason,
      );
      fake.mode = 'ok';
    });
  }

  it('fails with reason body when /metrics is over the limit', async () => {
    fake.mode = 'ok';
    fake.metrics = vllmPage('m', [{ running: 1 }]);
    const small = createVllmAdapter({
      endpointId: 'n1/x',
      node: 'n1',
      url: fake.url,
      getText,
      maxMetricsBytes: 100,
    });
    await assert.rejects(
      small.scrape({ signal, now: 1 }),
      (err: unknown) => err instanceof ScrapeError && err.reason === 'body',
    );
  });
});
