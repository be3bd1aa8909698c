import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketQuantile, createSeriesSampler, type FamilyJson } from './series.ts';

const LES = [0.01, 0.1, 1, Infinity];

/** The two router families with `n` requests per status and TTFT bucket counts (cumulative) per model. */
function families(statuses: Record<string, number>, buckets: Record<string, number[]>): FamilyJson[] {
  return [
    {
      name: 'infermesh_router_requests_total',
      values: Object.entries(statuses).map(([status, value]) => ({ labels: { status, model: 'm' }, value })),
    },
    {
      name: 'infermesh_router_ttft_seconds',
      values: Object.entries(buckets).flatMap(([model, counts]) =>
        counts.map((value, i) => ({
          labels: { model, endpoint: 'e', le: Number.isFinite(LES[i]!) ? LES[i]! : '+Inf' },
          value,
          metricName: 'infermesh_router_ttft_seconds_bucket',
        })),
      ),
    },
  ];
}

test('bucket quantiles interpolate within the bucket, as histogram_quantile does', () => {
  assert.equal(bucketQuantile(0.5, LES, [0, 0, 0, 0]), null);
  // 10 observations, all in (0.01, 0.1]: the median is halfway through that bucket.
  assert.equal(bucketQuantile(0.5, LES, [0, 10, 10, 10]), 55);
  assert.equal(bucketQuantile(0.99, LES, [5, 5, 10, 10]), 982);
  // In the +Inf bucket: the highest finite bound.
  assert.equal(bucketQuantile(0.99, LES, [0, 0, 0, 4]), 1000);
});

test('the sampler turns counters into rates and window quantiles, summed over threads', async () => {
  let now = 10_000;
  let reads: FamilyJson[][] = [];
  const sampler = createSeriesSampler({ read: async () => reads, now: () => now, windowS: 5 });
  reads = [families({ '200': 10 }, { m: [0, 10, 10, 10] }), families({ '200': 5, '429': 1 }, {})];
  const first = await sampler.sample([{ endpointId: 'n/e', queueDepth: 2, kvCacheUsage: 0.4 } as never]);
  assert.deepEqual(first.rps, { '200': 0, '429': 0 }, 'no rate before a second read');
  assert.deepEqual(first.queue, { 'n/e': 2 });
  assert.deepEqual(first.kv, { 'n/e': 0.4 });

  now += 1000;
  reads = [families({ '200': 30 }, { m: [0, 10, 30, 30] }), families({ '200': 5, '429': 3 }, {})];
  const second = await sampler.sample([]);
  assert.deepEqual(second.rps, { '200': 20, '429': 2 });
  // Over the window: 20 new observations, all in (0.1, 1].
  assert.equal(second.ttft.m!.p50, 550);
  assert.equal(second.t, 11);

  now += 1000;
  const idle = await sampler.sample([]);
  assert.deepEqual(idle.rps, { '200': 0, '429': 0 });
  assert.equal(sampler.history().length, 3);
});
