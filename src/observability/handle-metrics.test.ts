import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { HandleCounter, HandleHistogram } from './handle-metrics.ts';

const BUCKETS = [0.005, 0.05, 0.5, 5];
const labelsArb = fc.record({
  model: fc.constantFrom('a', 'b', 'we"ird\\n'),
  endpoint: fc.constantFrom('x', 'y'),
});

test('handle metrics expose exactly what prom-client exposes for the same updates', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(labelsArb, fc.double({ min: 0, max: 10, noNaN: true })), { maxLength: 40 }),
      async (updates) => {
        const ours = new Registry();
        const theirs = new Registry();
        const config = { name: 't_seconds', help: 'h', labelNames: ['model', 'endpoint'] as const };
        const h1 = new HandleHistogram({ ...config, buckets: BUCKETS, registers: [ours] });
        const c1 = new HandleCounter({ ...config, name: 't_total', registers: [ours] });
        const h2 = new Histogram({ ...config, buckets: BUCKETS, registers: [theirs] });
        const c2 = new Counter({ ...config, name: 't_total', registers: [theirs] });
        for (const [labels, value] of updates) {
          h1.labels(labels).observe(value);
          c1.labels(labels).inc(value);
          h2.observe(labels, value);
          c2.inc(labels, value);
        }
        assert.equal(await ours.metrics(), await theirs.metrics());
      },
    ),
  );
});

test("handle metrics sum across registries with prom-client's aggregator, as workers' do", async () => {
  const registries = [new Registry(), new Registry()];
  registries.forEach((registry, i) => {
    const h = new HandleHistogram({
      name: 'd_seconds',
      help: 'h',
      labelNames: ['m'],
      buckets: BUCKETS,
      registers: [registry],
    });
    h.labels({ m: 'a' }).observe(0.01 * (i + 1));
  });
  const merged = AggregatorRegistry.aggregate(await Promise.all(registries.map((r) => r.getMetricsAsJSON())));
  const text = await merged.metrics();
  assert.match(text, /^d_seconds_bucket\{le="0.05",m="a"\} 2$/m);
  assert.match(text, /^d_seconds_count\{m="a"\} 2$/m);
});
