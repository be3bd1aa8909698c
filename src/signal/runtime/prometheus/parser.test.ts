import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PromParseError,
  parsePrometheus,
  readHistograms,
  readSummaries,
  formatFromContentType,
} from './index.ts';

const one = (text: string, format?: 'text' | 'openmetrics') => parsePrometheus(text, { format }).families;

describe('parsePrometheus: samples', () => {
  it('reads HELP, TYPE and colon names', () => {
    const [fam] = one(
      '# HELP vllm:num_requests_running Running.\n# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="m"} 3.0\n',
    );
    assert.deepEqual(fam, {
      name: 'vllm:num_requests_running',
      type: 'gauge',
      help: 'Running.',
      samples: [{ name: 'vllm:num_requests_running', labels: { model_name: 'm' }, value: 3 }],
    });
  });

  it('reads labels in any order, with escapes, blanks and a trailing comma', () => {
    const [fam] = one('m{ b = "x\\\\y" ,a="say \\"hi\\"\\nnext", c="a\\tb",} 1\n');
    assert.deepEqual(fam?.samples[0]?.labels, { b: 'x\\y', a: 'say "hi"\nnext', c: 'a\\tb' });
  });

  it('reads special and scientific values', () => {
    const values = one(
      'a NaN\nb +Inf\nc -Inf\nd 1.7537953269352946e+09\ne 9.75010481363281e-06\nf 42\ng -3\nh .5\ni 1E3\nj inf\n',
    ).map((f) => f.samples[0]?.value);
    assert.deepEqual(values, [
      NaN,
      Infinity,
      -Infinity,
      1753795326.9352946,
      9.75010481363281e-6,
      42,
      -3,
      0.5,
      1000,
      Infinity,
    ]);
  });

  it('keeps text timestamps in ms and converts OpenMetrics seconds', () => {
    assert.equal(one('a 1 1700000000123\n')[0]?.samples[0]?.timestamp, 1700000000123);
    assert.equal(one('a 1 1700000000.5\n# EOF\n', 'openmetrics')[0]?.samples[0]?.timestamp, 1700000000500);
  });

  it('reads exemplars with and without timestamps', () => {
    const text =
      '# TYPE h histogram\nh_bucket{le="0.1"} 8 # {trace_id="abc"} 0.05 1700000000.25\nh_bucket{le="+Inf"} 9 # {} 2\nh_count 9\nh_sum 3\n# EOF\n';
    const [fam] = one(text, 'openmetrics');
    assert.deepEqual(fam?.samples[0]?.exemplar, {
      labels: { trace_id: 'abc' },
      value: 0.05,
      timestamp: 1700000000250,
    });
    assert.deepEqual(fam?.samples[1]?.exemplar, { labels: {}, value: 2 });
  });

  it('tolerates CRLF, blank lines, leading blanks, comments and a BOM', () => {
    const fams = one('\uFEFF# a comment\r\n\r\n  # TYPE x counter\r\n\tx_total 2\r\n\r\n');
    assert.deepEqual(fams, [
      { name: 'x', type: 'counter', samples: [{ name: 'x_total', labels: {}, value: 2 }] },
    ]);
  });

  it('keeps a label named __proto__ as an own property', () => {
    const labels = one('a{__proto__="x"} 1\n')[0]?.samples[0]?.labels;
    assert.equal(Object.hasOwn(labels ?? {}, '__proto__'), true);
    assert.equal(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value, 'x');
  });

  it('accepts values glued to a closing brace', () => {
    assert.equal(one('a{x="1"}5\n')[0]?.samples[0]?.value, 5);
  });
});

describe('parsePrometheus: families', () => {
  it('groups histogram samples under the TYPE name, buckets sorted by le, in any order', () => {
    const text = [
      '# TYPE vllm:iteration_tokens_total histogram',
      'vllm:iteration_tokens_total_sum{model_name="q"} 48826.0',
      'vllm:iteration_tokens_total_bucket{le="8.0",model_name="q"} 1302.0',
      'vllm:iteration_tokens_total_bucket{le="1.0",model_name="q"} 416.0',
      'vllm:iteration_tokens_total_bucket{model_name="q",le="+Inf"} 1325.0',
      'vllm:iteration_tokens_total_count{model_name="q"} 1325.0',
      'vllm:iteration_tokens_total_bucket{le="1.0",model_name="r"} 1',
      'vllm:iteration_tokens_total_bucket{le="+Inf",model_name="r"} 2',
    ].join('\n');
    const fams = one(text);
    assert.equal(fams.length, 1);
    assert.deepEqual(readHistograms(fams[0]!), [
      {
        labels: { model_name: 'q' },
        buckets: [
          { le: 1, count: 416 },
          { le: 8, count: 1302 },
          { le: Infinity, count: 1325 },
        ],
        sum: 48826,
        count: 1325,
      },
      {
        labels: { model_name: 'r' },
        buckets: [
          { le: 1, count: 1 },
          { le: Infinity, count: 2 },
        ],
      },
    ]);
  });

  it('keeps text-format _created gauges as their own family', () => {
    const text =
      '# TYPE c_total counter\nc_total 5.0\n# TYPE c_created gauge\nc_created 1.7e9\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n# TYPE h_created gauge\nh_created 1.7e9\n';
    assert.deepEqual(
      one(text).map((f) => [f.name, f.type, f.samples.length]),
      [
        ['c_total', 'counter', 1],
        ['c_created', 'gauge', 1],
        ['h', 'histogram', 3],
        ['h_created', 'gauge', 1],
      ],
    );
  });

  it('groups OpenMetrics _total/_created under the counter, including colon→underscore sample names', () => {
    const text =
      '# TYPE vllm:prompt_tokens counter\nvllm_prompt_tokens_total{m="a"} 5.0\nvllm_prompt_tokens_created{m="a"} 1.7e9\n# EOF\n';
    const [fam] = one(text, 'openmetrics');
    assert.equal(fam?.name, 'vllm:prompt_tokens');
    assert.deepEqual(
      fam?.samples.map((s) => s.name),
      ['vllm_prompt_tokens_total', 'vllm_prompt_tokens_created'],
    );
  });

  it('reads summaries', () => {
    const text = '# TYPE s summary\ns{quantile="0.99"} 3\ns{quantile="0.5"} 1\ns_sum 10\ns_count 4\n';
    assert.deepEqual(readSummaries(one(text)[0]!), [
      {
        labels: {},
        quantiles: [
          { quantile: 0.5, value: 1 },
          { quantile: 0.99, value: 3 },
        ],
        sum: 10,
        count: 4,
      },
    ]);
  });

  it('reads OpenMetrics-only types and UNIT', () => {
    const text = [
      '# TYPE build info',
      'build_info{version="1"} 1',
      '# TYPE st stateset',
      'st{st="a"} 1',
      '# TYPE gh gaugehistogram',
      '# UNIT gh seconds',
      'gh_bucket{le="1"} 2',
      'gh_bucket{le="+Inf"} 3',
      'gh_gsum 2.5',
      'gh_gcount 3',
      '# TYPE u unknown',
      'u 1',
      'implicit 2',
      '# EOF',
    ].join('\n');
    const fams = one(text, 'openmetrics');
    assert.deepEqual(
      fams.map((f) => [f.name, f.type, f.samples.length]),
      [
        ['build', 'info', 1],
        ['st', 'stateset', 1],
        ['gh', 'gaugehistogram', 4],
        ['u', 'unknown', 1],
        ['implicit', 'unknown', 1],
      ],
    );
    assert.equal(fams[2]?.unit, 'seconds');
    assert.deepEqual(readHistograms(fams[2])[0]?.sum, 2.5);
  });

  it('gives samples without TYPE their own untyped family, and lets a later TYPE set it', () => {
    const fams = one('x 1\n# TYPE x gauge\nx 2\ny_bucket 3\n');
    assert.deepEqual(
      fams.map((f) => [f.name, f.type, f.samples.length]),
      [
        ['x', 'gauge', 2],
        ['y_bucket', 'untyped', 1],
      ],
    );
  });

  it('keeps the first HELP and unescapes it', () => {
    const [fam] = one('# HELP a first \\\\ line\\nsecond \\"q\\"\n# HELP a again\na 1\n');
    assert.equal(fam?.help, 'first \\ line\nsecond "q"');
  });

  it('offers a lookup by family name', () => {
    const exp = parsePrometheus('# TYPE a gauge\na 1\n');
    assert.equal(exp.family('a')?.type, 'gauge');
    assert.equal(exp.family('b'), undefined);
  });

  it('picks the format from a Content-Type', () => {
    assert.equal(
      formatFromContentType('application/openmetrics-text; version=1.0.0; charset=utf-8'),
      'openmetrics',
    );
    assert.equal(formatFromContentType('text/plain; version=0.0.4; charset=utf-8'), 'text');
    assert.equal(formatFromContentType(undefined), 'text');
  });
});

describe('parsePrometheus: errors', () => {
  const bad: Array<[string, string, number]> = [
    ['value is not a number', 'a 1\nb hello\n', 2],
    ['missing value', 'a{x="1"}\n', 1],
    ['unterminated label value', 'a{x="1} 2\n', 1],
    ['unterminated label set', 'a{x="1" 2\n', 1],
    ['bad label name', 'a{1x="1"} 2\n', 1],
    ['duplicate label', 'a{x="1",x="2"} 2\n', 1],
    ['text after timestamp', 'a 1 2 3\n', 1],
    ['non-finite timestamp', 'a 1 +Inf\n', 1],
    ['bad name char', 'a-b 1\n', 1],
    ['unknown type', '# TYPE a countr\n', 1],
    ['missing type', '\n# TYPE a\n', 2],
    ['conflicting TYPE', '# TYPE a gauge\n# TYPE a counter\n', 2],
    ['invalid name in HELP', '# HELP 9a x\n', 1],
    ['content after EOF', 'a 1\n# EOF\nb 2\n', 3],
    ['bad exemplar', 'a 1 # x\n', 1],
    ['html', '<html><body>502 Bad Gateway</body></html>\n', 1],
    ['hex is not a value', 'a 0x10\n', 1],
  ];
  for (const [what, text, line] of bad) {
    it(`rejects ${what} with its line number`, () => {
      assert.throws(
        () => parsePrometheus(text),
        (err: unknown) => err instanceof PromParseError && err.line === line,
      );
    });
  }

  it('requires # EOF in OpenMetrics (a truncated body)', () => {
    assert.throws(() => parsePrometheus('# TYPE a gauge\na 1\n', { format: 'openmetrics' }), PromParseError);
  });

  it('reports the column', () => {
    try {
      parsePrometheus('abc{x="1"} nope\n');
      assert.fail('expected a throw');
    } catch (err) {
      assert.ok(err instanceof PromParseError);
      assert.equal(err.column, 12);
      assert.match(err.message, /line 1, column 12/);
    }
  });
});
