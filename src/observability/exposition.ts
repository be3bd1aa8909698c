/**
 * The node's one Prometheus exposition: this thread's registry, summed with the registries of the
 * router's worker threads when there are any (prom-client's aggregator: counters and histogram
 * buckets add up per label set), so `/metrics` reads as one router however many threads serve it.
 */
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';

/** A registry's metrics in JSON form (`registry.getMetricsAsJSON()`), as threads exchange them. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export async function exposition(registry: Registry, others: () => Promise<MetricsJson[]>): Promise<string> {
  const more = await others();
  if (more.length === 0) return registry.metrics();
  return AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), ...more]).metrics();
}
