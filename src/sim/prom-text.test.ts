import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHistogram } from './histogram.ts';
import { createPromWriter, formatValue, pythonFloatRepr } from './prom-text.ts';

test('floats print as prometheus_client prints them', () => {
  const cases: [number, string][] = [
    [3, '3.0'],
    [0, '0.0'],
    [0.05, '0.05'],
    [0.001, '0.001'],
    [2560, '2560.0'],
    [9.75010481363281e-6, '9.75010481363281e-06'],
    [0.0001, '0.0001'],
    [1.7537953269352946e9, '1.7537953269352946e+09'],
    [1048576, '1.048576e+06'],
    [123456.5, '123456.5'],
    [1e16, '1e+16'],
    [-2.5, '-2.5'],
    [Infinity, '+Inf'],
    [NaN, 'NaN'],
  ];
  for (const [v, s] of cases) assert.equal(formatValue(v), s, String(v));
  assert.equal(pythonFloatRepr(1e22), '1e+22');
  assert.equal(pythonFloatRepr(123.456), '123.456');
});

test('counters get a _created gauge family; histograms are cumulative with sorted labels', () => {
  const w = createPromWriter();
  w.counter('vllm:prompt_tokens', 'Prefill tokens.', [[{ model_name: 'm', engine: '0' }, 5]], 1.5e9);
  const h = createHistogram([0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  w.histogram('vllm:ttft', 'TTFT.', [[{ model_name: 'm', engine: '0' }, h]], 1.5e9);
  assert.equal(
    w.text(),
    [
      '# HELP vllm:prompt_tokens_total Prefill tokens.',
      '# TYPE vllm:prompt_tokens_total counter',
      'vllm:prompt_tokens_total{engine="0",model_name="m"} 5.0',
      '# HELP vllm:prompt_tokens_created Prefill tokens.',
      '# TYPE vllm:prompt_tokens_created gauge',
      'vllm:prompt_tokens_created{engine="0",model_name="m"} 1.5e+09',
      '# HELP vllm:ttft TTFT.',
      '# TYPE vllm:ttft histogram',
      'vllm:ttft_bucket{engine="0",le="0.1",model_name="m"} 1.0',
      'vllm:ttft_bucket{engine="0",le="1.0",model_name="m"} 2.0',
      'vllm:ttft_bucket{engine="0",le="+Inf",model_name="m"} 3.0',
      'vllm:ttft_count{engine="0",model_name="m"} 3.0',
      'vllm:ttft_sum{engine="0",model_name="m"} 5.55',
      '# HELP vllm:ttft_created TTFT.',
      '# TYPE vllm:ttft_created gauge',
      'vllm:ttft_created{engine="0",model_name="m"} 1.5e+09',
      '',
    ].join('\n'),
  );
});
