/**
 * Mirrors the records of one endpoint into meshd's per-model gauges, removing the label sets of a
 * signal that went absent so a dashboard never shows a number the runtime stopped reporting.
 */
import type { ModelState } from '../../core/types.ts';
import type { MeshMetrics } from '../../observability/metrics.ts';

type GaugeKey = 'modelQueueDepth' | 'modelRunning' | 'modelKvCacheUsage';
const FIELDS: Array<[GaugeKey, 'queueDepth' | 'running' | 'kvCacheUsage']> = [
  ['modelQueueDepth', 'queueDepth'],
  ['modelRunning', 'running'],
  ['modelKvCacheUsage', 'kvCacheUsage'],
];

const labelsOf = (s: ModelState) => ({ node: s.node, endpoint: s.endpointId, model: s.model });

/** Sets the gauges from a record (absent fields remove their label set). */
export function setModelGauges(metrics: MeshMetrics | undefined, state: ModelState): void {
  if (!metrics) return;
  const labels = labelsOf(state);
  for (const [gauge, field] of FIELDS) {
    const value = state[field];
    if (value === undefined) metrics[gauge].remove(labels);
    else metrics[gauge].set(labels, value);
  }
  metrics.modelHealthy.set(labels, state.health === 'healthy' ? 1 : 0);
}

/** Removes every gauge of a model that is gone. */
export function removeModelGauges(metrics: MeshMetrics | undefined, state: ModelState): void {
  if (!metrics) return;
  const labels = labelsOf(state);
  for (const [gauge] of FIELDS) metrics[gauge].remove(labels);
  metrics.modelHealthy.remove(labels);
}
