import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  counterDelta,
  histogramDelta,
  histogramQuantile,
  type CounterReading,
  type HistogramReading,
} from './window.ts';

const counter = (entries: Array<[string, number, number?]>, name = 'c'): CounterReading => ({
  name,
  series: new Map(
    entries.map(([k, value, created]) => [k, created === undefined ? { value } : { value, created }]),
  ),
});
const hist = (entries: Array<[string, Array<[number, number]>, number?]>, name = 'h'): HistogramReading => ({
  name,
  series: new Map(
    entries.map(([k, b, created]) => [
      k,
      { buckets: b.map(([le, count]) => ({ le, count })), ...(created === undefined ? {} : { created }) },
    ]),
  ),
});

describe('counterDelta', () => {
  it('sums increases over series', () => {
    assert.equal(
      counterDelta(
        counter([
          ['a', 10],
          ['b', 5],
        ]),
        counter([
          ['a', 15],
          ['b', 8],
        ]),
      ),
      8,
    );
  });
  it('counts a new series from zero', () => {
    assert.equal(
      counterDelta(
        counter([['a', 10]]),
        counter([
          ['a', 12],
          ['b', 3],
        ]),
      ),
      5,
    );
  });
  it('skips the window on a reset: a series went down, its _created changed, or a series vanished', () => {
    assert.equal(counterDelta(counter([['a', 10]]), counter([['a', 4]])), undefined);
    assert.equal(counterDelta(counter([['a', 10, 1]]), counter([['a', 40, 2]])), undefined);
    assert.equal(
      counterDelta(
        counter([
          ['a', 10],
          ['b', 1],
        ]),
        counter([['a', 40]]),
      ),
      undefined,
    );
  });
  it('needs two readings of the same metric name', () => {
    assert.equal(counterDelta(undefined, counter([['a', 1]])), undefined);
    assert.equal(counterDelta(counter([['a', 1]], 'old'), counter([['a', 2]], 'new')), undefined);
  });
});

describe('histogramQuantile', () => {
  it('interpolates linearly inside the bucket that holds the rank', () => {
    const buckets = [
      { le: 0.5, count: 0 },
      { le: 1, count: 10 },
      { le: 2.5, count: 20 },
      { le: Infinity, count: 20 },
    ];
    assert.equal(histogramQuantile(0.95, buckets), 1 + 1.5 * 0.9);
    assert.equal(histogramQuantile(0.5, buckets), 1);
  });
  it('starts the first bucket at zero', () => {
    assert.equal(
      histogramQuantile(0.5, [
        { le: 2, count: 4 },
        { le: Infinity, count: 4 },
      ]),
      1,
    );
  });
  it('answers the largest finite bound when the rank is in +Inf', () => {
    assert.equal(
      histogramQuantile(0.95, [
        { le: 1, count: 1 },
        { le: Infinity, count: 10 },
      ]),
      1,
    );
    assert.equal(histogramQuantile(0.95, [{ le: Infinity, count: 10 }]), undefined);
  });
  it('is undefined without observations', () => {
    assert.equal(
      histogramQuantile(0.95, [
        { le: 1, count: 0 },
        { le: Infinity, count: 0 },
      ]),
      undefined,
    );
    assert.equal(histogramQuantile(0.95, []), undefined);
  });
});

describe('histogramDelta', () => {
  const b = (c1: number, c2: number, inf: number): Array<[number, number]> => [
    [0.1, c1],
    [1, c2],
    [Infinity, inf],
  ];
  it('subtracts per bucket and sums engines', () => {
    const prev = hist([
      ['e0', b(1, 2, 3)],
      ['e1', b(0, 0, 0)],
    ]);
    const cur = hist([
      ['e0', b(2, 4, 6)],
      ['e1', b(1, 1, 2)],
    ]);
    assert.deepEqual(histogramDelta(prev, cur), [
      { le: 0.1, count: 2 },
      { le: 1, count: 3 },
      { le: Infinity, count: 5 },
    ]);
  });
  it('skips the window on a reset', () => {
    assert.equal(histogramDelta(hist([['e0', b(1, 2, 3)]]), hist([['e0', b(0, 1, 1)]])), undefined);
    assert.equal(histogramDelta(hist([['e0', b(1, 2, 3), 1]]), hist([['e0', b(5, 5, 5), 2]])), undefined);
  });
  it('keeps only the bounds every engine has', () => {
    const prev = hist([
      ['e0', b(0, 0, 0)],
      [
        'e1',
        [
          [1, 0],
          [Infinity, 0],
        ],
      ],
    ]);
    const cur = hist([
      ['e0', b(1, 1, 1)],
      [
        'e1',
        [
          [1, 2],
          [Infinity, 2],
        ],
      ],
    ]);
    assert.deepEqual(histogramDelta(prev, cur), [
      { le: 1, count: 3 },
      { le: Infinity, count: 3 },
    ]);
  });
});
