import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createMeshMetrics } from './metrics.ts';

const documented = () => {
  const doc = readFileSync(new URL('../../docs/METRICS.md', import.meta.url), 'utf8');
  return new Set(
    [...doc.matchAll(/`(infermesh_[a-z_]+)`/g)].map((m) => m[1]!).filter((n) => !n.endsWith('_')),
  );
};

test('every documented metric exists and every declared metric is documented', async () => {
  const metrics = createMeshMetrics();
  const declared = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
  assert.deepEqual([...documented()].sort(), [...declared].sort());
});

test(
  'the exposition passes promtool check metrics',
  { skip: !hasPromtool() && 'promtool not installed' },
  async () => {
    const metrics = createMeshMetrics({ defaultMetrics: true });
    metrics.requests.inc({ model: 'm', endpoint: 'n/e', status: '200', code: 'ok' });
    metrics.ttft.observe({ model: 'm', endpoint: 'n/e' }, 0.2);
    metrics.modelQueueDepth.set({ node: 'n', endpoint: 'n/e', model: 'm' }, 3);
    const result = spawnSync('promtool', ['check', 'metrics'], { input: await metrics.registry.metrics() });
    const output = `${result.stdout.toString()}${result.stderr.toString()}`;
    // promtool exits 1 for lint findings too; prom-client's own process gauges carry a `_total`
    // suffix it dislikes. What we own must parse and lint clean.
    assert.doesNotMatch(output, /parsing error/);
    const ours = output
      .split('\n')
      .filter((line) => line.startsWith('infermesh_') && !line.startsWith('infermesh_process_'));
    assert.deepEqual(ours, []);
  },
);

function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version']).status === 0;
}
