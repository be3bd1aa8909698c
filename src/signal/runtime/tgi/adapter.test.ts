/** The TGI adapter against the verbatim §2.4.1 page, the §2.2 /info example, and a fake TGI. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createGetText } from '../http.ts';
import { parsePrometheus } from '../prometheus/index.ts';
import { ScrapeError } from '../scrape-error.ts';
import { readFixture } from '../testing/fixtures.ts';
import { createTgiAdapter, extractTgi, tgiInfoSchema } from './adapter.ts';
import { startFakeTgi, type FakeTgiServer } from '../testing/fake-tgi-server.ts';

const agent = new Agent();
const getText = createGetText(agent);
const signal = new AbortController().signal;
const PAGE = readFixture(import.meta.url, './fixtures/tgi-datadog-payload.prom');
let fake: FakeTgiServer;

before(async () => {
  fake = await startFakeTgi({ metrics: PAGE });
});
after(async () => {
  await fake.close();
  await agent.close();
});

const adapter = () =>
  createTgiAdapter({ endpointId: 'n1/tgi', node: 'n1', url: fake.url, getText, minWindowMs: 0 });

/** The fixture with its counters and duration histogram moved on by `n` requests of ~1.5 s. */
const advanced = (n: number) =>
  PAGE.replace('tgi_request_success 109', `tgi_request_success ${109 + n}`)
    .replace('tgi_request_input_length_sum 662', `tgi_request_input_length_sum ${662 + 10 * n}`)
    .replace('tgi_queue_size 0', 'tgi_queue_size 3')
    .replace('tgi_batch_current_size 0', 'tgi_batch_current_size 5');

describe('TGI adapter', () => {
  it('reads the verbatim §2.4.1 page: queue, batch, counters without _total', () => {
    const r = extractTgi(parsePrometheus(PAGE));
    assert.equal(r.queue, 0);
    assert.equal(r.running, 0);
    assert.equal(r.batchTokens, 0);
    assert.equal(r.batchMaxTokens, undefined);
    assert.equal(r.success?.series.values().next().value?.value, 109);
    assert.equal(r.inputTokens?.series.values().next().value?.value, 662);
    assert.equal(r.generatedTokens, undefined); // cut from the excerpt
  });

  it('accepts the §2.2 /info example', () => {
    const info = JSON.parse(
      readFileSync(new URL('./fixtures/tgi-info-schema-example.json', import.meta.url), 'utf8'),
    );
    assert.equal(tgiInfoSchema.parse(info).model_id, 'bigscience/blomm-560m');
  });

  it('gives one record named by /info, with rates from the second scrape and no invented fields', async () => {
    fake.metrics = PAGE;
    const a = adapter();
    const [first] = await a.scrape({ signal, now: 0 });
    assert.deepEqual(first, {
      endpointId: 'n1/tgi',
      endpointUrl: fake.url,
      node: 'n1',
      health: 'healthy',
      model: 'bigscience/bloom-560m',
      runtime: 'tgi',
      loaded: true,
      warming: false,
      queueDepth: 0,
      running: 0,
      protocols: ['tgi', 'openai'],
      canLoad: false,
      canUnload: false,
      updatedAt: 0,
    });
    fake.metrics = advanced(20);
    const [second] = await a.scrape({ signal, now: 10_000 });
    assert.equal(second?.requestRate, 2);
    assert.equal(second?.queueDepth, 3);
    assert.equal(second?.running, 5);
    assert.equal(second?.tokenRate, undefined); // generated-token histogram not on the page
    assert.equal(second?.ttftP95Ms, undefined); // TGI has no TTFT histogram
  });

  it('fills batchFullness from current/max batch tokens when both are exposed', async () => {
    fake.metrics = `${PAGE.replace('tgi_batch_current_max_tokens 0', 'tgi_batch_current_max_tokens 4096')}\n# TYPE tgi_batch_max_total_tokens gauge\ntgi_batch_max_total_tokens 16384\n`;
    const [state] = await adapter().scrape({ signal, now: 0 });
    assert.equal(state?.batchFullness, 0.25);
  });

  it('marks warming on a 503 /health', async () => {
    fake.metrics = PAGE;
    fake.healthy = false;
    const [state] = await adapter().scrape({ signal, now: 0 });
    fake.healthy = true;
    assert.equal(state?.warming, true);
  });

  const failures: Array<[string, () => void, string]> = [
    ['a 5xx /metrics', () => (fake.mode = 'error500'), 'http_status'],
    ['garbage /metrics', () => (fake.mode = 'garbage'), 'parse'],
    ['a truncated /metrics', () => (fake.mode = 'truncate'), 'body'],
    ['a 503 /info', () => (fake.infoUp = false), 'http_status'],
  ];
  for (const [what, arrange, reason] of failures) {
    it(`fails with reason ${reason} on ${what}`, async () => {
      fake.metrics = PAGE;
      arrange();
      try {
        await assert.rejects(
          adapter().scrape({ signal, now: 0 }),
          (e: unknown) => e instanceof ScrapeError && e.reason === reason,
        );
      } finally {
        fake.mode = 'ok';
        fake.infoUp = true;
      }
    });
  }
});
