/** The SGLang adapter against its documented /metrics sample and a fake SGLang server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createGetText } from '../http.ts';
import { ScrapeError } from '../scrape-error.ts';
import { readFixture } from '../testing/fixtures.ts';
import { createSglangAdapter } from './adapter.ts';
import { startFakeSglang, type FakeSglangServer } from '../testing/fake-sglang-server.ts';

const agent = new Agent();
const getText = createGetText(agent);
const signal = new AbortController().signal;
const PAGE = readFixture(import.meta.url, './fixtures/sglang-production-metrics-doc.prom');
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
let fake: FakeSglangServer;

before(async () => {
  fake = await startFakeSglang({ metrics: PAGE, model: MODEL });
});
after(async () => {
  await fake.close();
  await agent.close();
});

const adapter = () =>
  createSglangAdapter({ endpointId: 'n1/sg', node: 'n1', url: fake.url, getText, minWindowMs: 0 });

describe('SGLang adapter', () => {
  it('reads the documented page into one record, no invented fields', async () => {
    fake.metrics = PAGE;
    const [state, ...rest] = await adapter().scrape({ signal, now: 5 });
    assert.equal(rest.length, 0);
    assert.deepEqual(state, {
      endpointId: 'n1/sg',
      endpointUrl: fake.url,
      node: 'n1',
      health: 'healthy',
      model: MODEL,
      runtime: 'sglang',
      loaded: true,
      warming: false,
      queueDepth: 2826,
      running: 162,
      kvCacheUsage: 0.28,
      prefixCacheHitRate: 0.007507552643049313,
      protocols: ['openai'],
      canLoad: false,
      canUnload: false,
      updatedAt: 5,
    });
  });

  it('turns token counters and TTFT buckets into rates and a p95 on the second scrape', async () => {
    const a = adapter();
    fake.metrics = PAGE;
    await a.scrape({ signal, now: 0 });
    fake.metrics = PAGE.replace(
      'sglang:prompt_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 8.128902e+06',
      'sglang:prompt_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 8.129902e+06',
    )
      .replace(
        'sglang:generation_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.557572e+06',
        'sglang:generation_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.558572e+06',
      )
      .replaceAll('} 11008.0', '} 11108.0');
    const [state] = await a.scrape({ signal, now: 10_000 });
    assert.equal(state?.tokenRate, 200);
    // 100 new TTFTs all above 30 s: the rank falls in +Inf → the largest finite bound.
    assert.equal(state?.ttftP95Ms, 30_000);
    assert.equal(state?.requestRate, undefined); // num_requests_total not on this page
  });

  it('marks warming on a 503 /health', async () => {
    fake.healthy = false;
    const [state] = await adapter().scrape({ signal, now: 0 });
    fake.healthy = true;
    assert.equal(state?.warming, true);
  });

  for (const [mode, reason] of [
    ['error500', 'http_status'],
    ['garbage', 'parse'],
    ['truncate', 'body'],
  ] as const) {
    it(`fails with reason ${reason} on a ${mode} /metrics`, async () => {
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
