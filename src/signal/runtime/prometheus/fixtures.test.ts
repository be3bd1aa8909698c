/** The verbatim prometheus_client 0.26 capture (reference doc §0.1), text and OpenMetrics. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFixture } from '../testing/fixtures.ts';
import { parsePrometheus, readHistograms, samplesByName } from './index.ts';

const text = readFixture(import.meta.url, './fixtures/prometheus-client-0.26-text.prom');
const openMetrics = readFixture(import.meta.url, './fixtures/prometheus-client-0.26-openmetrics.prom');

describe('prometheus_client 0.26 capture', () => {
  it('text format: _created families stand alone, histogram grouped', () => {
    const exp = parsePrometheus(text);
    assert.deepEqual(
      exp.families.map((f) => [f.name, f.type, f.samples.length]),
      [
        ['vllm:num_requests_running', 'gauge', 1],
        ['vllm:prompt_tokens_total', 'counter', 1],
        ['vllm:prompt_tokens_created', 'gauge', 1],
        ['vllm:time_to_first_token_seconds', 'histogram', 5],
        ['vllm:time_to_first_token_seconds_created', 'gauge', 1],
      ],
    );
    const [ttft] = readHistograms(exp.family('vllm:time_to_first_token_seconds')!);
    assert.deepEqual(ttft, {
      labels: { engine: '0', model_name: 'm' },
      buckets: [
        { le: 0.1, count: 1 },
        { le: 1, count: 1 },
        { le: Infinity, count: 1 },
      ],
      count: 1,
      sum: 0.05,
    });
    assert.equal(exp.family('vllm:prompt_tokens_created')?.samples[0]?.value, 1.7954297921390994e9);
  });

  it('OpenMetrics: counter named without _total, samples underscored, _created folded in', () => {
    const exp = parsePrometheus(openMetrics, { format: 'openmetrics' });
    assert.deepEqual(
      exp.families.map((f) => [f.name, f.type, f.samples.map((s) => s.name)]),
      [
        ['vllm:num_requests_running', 'gauge', ['vllm_num_requests_running']],
        ['vllm:prompt_tokens', 'counter', ['vllm_prompt_tokens_total', 'vllm_prompt_tokens_created']],
        [
          'vllm:time_to_first_token_seconds',
          'histogram',
          [
            'vllm_time_to_first_token_seconds_bucket',
            'vllm_time_to_first_token_seconds_bucket',
            'vllm_time_to_first_token_seconds_bucket',
            'vllm_time_to_first_token_seconds_count',
            'vllm_time_to_first_token_seconds_sum',
            'vllm_time_to_first_token_seconds_created',
          ],
        ],
      ],
    );
    const [ttft] = readHistograms(exp.family('vllm:time_to_first_token_seconds')!);
    assert.equal(ttft?.created, 1.7954297921391451e9);
    assert.equal(ttft?.buckets.length, 3);
    assert.equal(samplesByName(exp).get('vllm_prompt_tokens_total')?.[0]?.value, 5);
  });

  it('the OpenMetrics body without its # EOF reads as truncated', () => {
    const cut = openMetrics.slice(0, openMetrics.indexOf('# EOF'));
    assert.throws(() => parsePrometheus(cut, { format: 'openmetrics' }), /missing # EOF/);
  });
});
