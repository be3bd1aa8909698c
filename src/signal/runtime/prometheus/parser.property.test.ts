/**
 * Property and fuzz tests: what the renderer writes the parser reads back unchanged, and no input
 * at all makes the parser throw anything but PromParseError or run in more than linear time.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readFixture } from '../testing/fixtures.ts';
import {
  PromParseError,
  parsePrometheus,
  renderPrometheus,
  type ExpositionFormat,
  type Labels,
  type MetricFamily,
  type Sample,
} from './index.ts';

const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,10}$/);
const labelName = fc
  .stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/)
  .filter((n) => n !== 'le' && n !== 'quantile');
const labelValue = fc.string({ unit: 'binary', maxLength: 12 });

const labelsArb = fc
  .uniqueArray(fc.tuple(labelName, labelValue), { selector: (t) => t[0], maxLength: 4 })
  .map((pairs) => {
    const labels: Labels = {};
    for (const [k, v] of pairs)
      Object.defineProperty(labels, k, { value: v, enumerable: true, writable: true, configurable: true });
    return labels;
  });

const help = fc
  .string({ unit: 'binary', maxLength: 30 })
  .filter((h) => !/^[ \t]/.test(h) && !h.includes('\r'));

function familyArb(format: ExpositionFormat) {
  // Up to 2^41 ms (year 2039): OpenMetrics seconds then keep microsecond precision exactly.
  const ts = fc.option(fc.integer({ min: -(2 ** 40), max: 2 ** 41 }), { nil: undefined });
  const exemplar = fc.option(
    fc.record({
      labels: labelsArb,
      value: fc.double(),
      timestamp: fc.option(fc.integer({ min: 0, max: 2 ** 41 }), { nil: undefined }),
    }),
    { nil: undefined },
  );
  const sample = (name: string, extra: Labels = {}) =>
    fc
      .record({ labels: labelsArb, value: fc.double(), timestamp: ts, exemplar })
      .map(({ labels, value, timestamp, exemplar: ex }) => {
        const s: Sample = { name, labels: { ...labels, ...extra }, value };
        if (timestamp !== undefined) s.timestamp = timestamp;
        if (ex)
          s.exemplar =
            ex.timestamp === undefined
              ? { labels: ex.labels, value: ex.value }
              : { labels: ex.labels, value: ex.value, timestamp: ex.timestamp };
        return s;
      });
  const simpleTypes =
    format === 'openmetrics'
      ? (['gauge', 'counter', 'unknown', 'stateset'] as const)
      : (['gauge', 'counter', 'untyped'] as const);
  return fc
    .record({
      name: metricName,
      help: fc.option(help, { nil: undefined }),
      kind: fc.constantFrom(...simpleTypes, 'histogram', 'summary'),
    })
    .chain(({ name, help: h, kind }) => {
      const samples =
        kind === 'histogram'
          ? fc.tuple(
              fc.array(sample(`${name}_bucket`, { le: '0.5' }), { maxLength: 2 }),
              fc.array(sample(`${name}_count`), { maxLength: 1 }),
              fc.array(sample(`${name}_sum`), { maxLength: 1 }),
            )
          : kind === 'summary'
            ? fc.tuple(
                fc.array(sample(name, { quantile: '0.99' }), { maxLength: 2 }),
                fc.array(sample(`${name}_sum`), { maxLength: 1 }),
              )
            : fc.tuple(fc.array(sample(name), { maxLength: 3 }));
      return samples.map((groups): MetricFamily => {
        const fam: MetricFamily = { name, type: kind, samples: groups.flat() };
        if (h !== undefined) fam.help = h;
        return fam;
      });
    });
}

/** Unique family names with distinct prefixes, so no sample can belong to another family. */
const familiesArb = (format: ExpositionFormat) =>
  fc.array(familyArb(format), { maxLength: 5 }).map((fams) => fams.map((f, i) => renamed(f, `f${i}_`)));

function renamed(fam: MetricFamily, prefix: string): MetricFamily {
  return {
    ...fam,
    name: prefix + fam.name,
    samples: fam.samples.map((s) => ({ ...s, name: prefix + s.name })),
  };
}

const onlyPromParseError = (text: string, format: ExpositionFormat) => {
  try {
    parsePrometheus(text, { format });
  } catch (err) {
    if (!(err instanceof PromParseError)) throw err;
  }
};

describe('parser properties', () => {
  for (const format of ['text', 'openmetrics'] as const) {
    it(`render → parse is the identity (${format})`, () => {
      fc.assert(
        fc.property(familiesArb(format), (families) => {
          const parsed = parsePrometheus(renderPrometheus(families, { format }), { format }).families;
          assert.deepStrictEqual(parsed, families);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('arbitrary strings only ever throw PromParseError', () => {
    const syntax = fc.string({
      unit: fc.constantFrom(
        '#',
        ' ',
        '\t',
        '\n',
        '\r',
        '{',
        '}',
        '"',
        '\\',
        '=',
        ',',
        'a',
        '_',
        ':',
        '1',
        '.',
        'e',
        '+',
        '-',
        'Inf',
        'NaN',
        ' # ',
        'TYPE',
        'HELP',
        'EOF',
        'le',
        'x',
      ),
      maxLength: 80,
    });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), syntax),
        fc.constantFrom('text' as const, 'openmetrics' as const),
        (text, format) => onlyPromParseError(text, format),
      ),
      { numRuns: 3000 },
    );
  });
});

/** xorshift32: a fixed seed makes a fuzz failure reproducible. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

describe('parser fuzz', () => {
  it('100,000 mutated exposition snippets only throw PromParseError', () => {
    const corpus: string[] = [];
    for (const dir of ['./fixtures/', '../vllm/fixtures/']) {
      for (const file of readdirSync(new URL(dir, import.meta.url))) {
        if (file.endsWith('.md')) continue;
        corpus.push(
          ...readFixture(import.meta.url, dir + file, { uncomment: file.includes('commented') }).split('\n'),
        );
      }
    }
    corpus.push(
      'a{b="\\\\\\"\\n"} 1 2 # {t="x"} 3 4',
      '# EOF',
      '# TYPE x histogram',
      'x_bucket{le="+Inf"} NaN',
      'a{,} 1',
      '\uFEFF',
    );
    const alphabet = '#{}"\\=, \t\r\n:_.eE+-0123456789abcINFnaf\u00e9\u2028\u0000';
    const next = rng(0x5eed);
    const started = Date.now();
    let parsed = 0;
    for (let i = 0; i < 100_000; i++) {
      const lines: string[] = [];
      for (let n = 1 + next(4); n > 0; n--) lines.push(corpus[next(corpus.length)] ?? '');
      let text = lines.join(next(2) === 0 ? '\n' : '\r\n');
      for (let m = next(4); m > 0; m--) {
        const at = next(text.length + 1);
        const op = next(5);
        if (op === 0) text = text.slice(0, at) + alphabet.charAt(next(alphabet.length)) + text.slice(at);
        else if (op === 1) text = text.slice(0, at) + text.slice(at + 1 + next(8));
        else if (op === 2)
          text = text.slice(0, at) + alphabet.charAt(next(alphabet.length)) + text.slice(at + 1);
        else if (op === 3) text = text.slice(0, at);
        else text = text.slice(0, at) + text.slice(next(text.length + 1), at) + text.slice(at);
      }
      const format = next(3) === 0 ? 'openmetrics' : 'text';
      try {
        parsePrometheus(text, { format });
        parsed++;
      } catch (err) {
        if (!(err instanceof PromParseError))
          assert.fail(`input ${JSON.stringify(text)} threw ${String(err)}`);
      }
    }
    assert.ok(
      parsed > 1000,
      `too few inputs parsed (${parsed}): the mutations are too destructive to test much`,
    );
    assert.ok(Date.now() - started < 20_000);
  });

  it('runs in linear time on pathological inputs', () => {
    const n = 200_000;
    const inputs = [
      `a{b="${'\\"'.repeat(n)}`,
      `a{${'b="x",'.repeat(n / 4)}`,
      `${'a{b="1"} 1\n'.repeat(n / 4)}`,
      `${'x_bucket 1\n'.repeat(n / 4)}`,
      `${'m'.repeat(n)}${' '.repeat(n)}1`,
      `# HELP a ${'\\\\'.repeat(n)}`,
      `${'#'.repeat(n)}\n`.repeat(4),
      `a 1 # {${'t="1",'.repeat(n / 4)}`,
      `${'\n'.repeat(n)}a`,
      `${'x{le="1"} 1\n'.repeat(n / 8)}${'# TYPE x histogram\n'}`,
    ];
    for (const input of inputs) {
      const started = process.hrtime.bigint();
      onlyPromParseError(input, 'text');
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      assert.ok(ms < 2000, `${input.slice(0, 30)}… took ${ms} ms`);
    }
  });
});
