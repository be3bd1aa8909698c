/**
 * Every metric meshd exports is declared here, and only here, so names stay consistent and a test
 * can check that every name the docs mention exists. Names are prefixed `infermesh_`. The router's
 * per-request families are handle metrics (`handle-metrics.ts`: no label work per update); the
 * rest are prom-client's own.
 * Each meshd instance owns its registry (several instances may share a process in tests).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HandleCounter, HandleHistogram } from './handle-metrics.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createMeshMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'infermesh_process_' });
  const registers = [registry];
  // Read at scrape time from whoever holds the leases (the node's decision owner), so counting a
  // request in flight costs nothing per request.
  let inFlightSource: () => ReadonlyMap<string, number> = () => new Map();
  let meshView: MeshViewSource = { memberStates: () => [], peers: () => [] };

  return {
    registry,
    requests: new HandleCounter({
      name: 'infermesh_router_requests_total',
      help: 'Requests the router finished, by model, endpoint, HTTP status and outcome code (ok, or the mesh error code).',
      labelNames: ['model', 'endpoint', 'status', 'code'] as const,
      registers,
    }),
    ttft: new HandleHistogram({
      name: 'infermesh_router_ttft_seconds',
      help: 'Time from request arrival to the first response byte from the upstream.',
      labelNames: ['model', 'endpoint'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    e2e: new HandleHistogram({
      name: 'infermesh_router_request_duration_seconds',
      help: 'Time from request arrival to the end of the response.',
      labelNames: ['model', 'endpoint'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    inFlight: new Gauge({
      name: 'infermesh_router_in_flight_requests',
      help: 'Requests the router has sent to an endpoint and not yet finished.',
      labelNames: ['endpoint'] as const,
      registers,
      collect() {
        this.reset();
        for (const [endpoint, n] of inFlightSource()) this.set({ endpoint }, n);
      },
    }),
    /** Where `infermesh_router_in_flight_requests` reads its counts (endpoint id → requests). */
    setInFlightSource(source: () => ReadonlyMap<string, number>): void {
      inFlightSource = source;
    },
    workerRequests: new HandleCounter({
      name: 'infermesh_router_worker_requests_total',
      help: 'Requests each router worker thread accepted (how evenly the kernel spreads connections over them).',
      labelNames: ['worker'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'infermesh_router_retries_total',
      help: 'Requests retried on another endpoint after an upstream failed before its first byte.',
      labelNames: ['model'] as const,
      registers,
    }),
    hedges: new Counter({
      name: 'infermesh_router_hedges_total',
      help: 'Second copies of a request sent to another endpoint because its first token was late (hedges).',
      labelNames: ['model'] as const,
      registers,
    }),
    hedgesWon: new Counter({
      name: 'infermesh_router_hedges_won_total',
      help: 'Hedges that answered before the first attempt (the client got the hedge).',
      labelNames: ['model'] as const,
      registers,
    }),
    hedgesCancelled: new Counter({
      name: 'infermesh_router_hedges_cancelled_total',
      help: 'Attempts of a hedged request aborted because the other answered first, by which lost (primary or hedge).',
      labelNames: ['model', 'attempt'] as const,
      registers,
    }),
    hedgesSuppressed: new Counter({
      name: 'infermesh_router_hedges_suppressed_total',
      help: 'Hedges due but not sent, by reason (cap, saturated, overloaded, no_candidate).',
      labelNames: ['model', 'reason'] as const,
      registers,
    }),
    quotaRejected: new Counter({
      name: 'infermesh_quota_rejected_total',
      help: 'Requests refused with 429 because their tenant was over a quota, by tenant and model.',
      labelNames: ['tenant', 'model'] as const,
      registers,
    }),
    tenantRequests: new Counter({
      name: 'infermesh_tenant_requests_total',
      help: 'Requests admitted for a tenant (named by its API key, or x-mesh-tenant without keys), by tenant.',
      labelNames: ['tenant'] as const,
      registers,
    }),
    scrapes: new Counter({
      name: 'infermesh_scrapes_total',
      help: 'Runtime endpoint scrapes, by endpoint and result (ok or error).',
      labelNames: ['endpoint', 'result'] as const,
      registers,
    }),
    scrapeErrors: new Counter({
      name: 'infermesh_scrape_errors_total',
      help: 'Failed runtime endpoint scrapes, by endpoint and reason.',
      labelNames: ['endpoint', 'reason'] as const,
      registers,
    }),
    modelQueueDepth: new Gauge({
      name: 'infermesh_model_queue_depth',
      help: 'Requests waiting at the runtime, per endpoint and model.',
      labelNames: ['node', 'endpoint', 'model'] as const,
      registers,
    }),
    modelRunning: new Gauge({
      name: 'infermesh_model_running_requests',
      help: 'Requests running at the runtime, per endpoint and model.',
      labelNames: ['node', 'endpoint', 'model'] as const,
      registers,
    }),
    modelKvCacheUsage: new Gauge({
      name: 'infermesh_model_kv_cache_usage_ratio',
      help: 'KV cache in use at the runtime, 0..1.',
      labelNames: ['node', 'endpoint', 'model'] as const,
      registers,
    }),
    modelHealthy: new Gauge({
      name: 'infermesh_model_endpoint_healthy',
      help: '1 when the endpoint serving the model is healthy, else 0.',
      labelNames: ['node', 'endpoint', 'model'] as const,
      registers,
    }),
    gpuUtilization: new Gauge({
      name: 'infermesh_gpu_utilization_ratio',
      help: 'GPU SM busy fraction, 0..1, from the GPU telemetry source.',
      labelNames: ['node', 'gpu_uuid'] as const,
      registers,
    }),
    gpuMemoryUsed: new Gauge({
      name: 'infermesh_gpu_memory_used_bytes',
      help: 'GPU memory in use, in bytes.',
      labelNames: ['node', 'gpu_uuid'] as const,
      registers,
    }),
    gpuMemoryTotal: new Gauge({
      name: 'infermesh_gpu_memory_total_bytes',
      help: 'GPU memory in total, in bytes.',
      labelNames: ['node', 'gpu_uuid'] as const,
      registers,
    }),
    gpuTemperature: new Gauge({
      name: 'infermesh_gpu_temperature_celsius',
      help: 'GPU temperature in degrees Celsius.',
      labelNames: ['node', 'gpu_uuid'] as const,
      registers,
    }),
    gpuPower: new Gauge({
      name: 'infermesh_gpu_power_watts',
      help: 'GPU power draw in watts.',
      labelNames: ['node', 'gpu_uuid'] as const,
      registers,
    }),
    gpuSmClock: new Gauge({
      name: 'infermesh_gpu_sm_clock_hertz',
      help: 'GPU SM clock in hertz, as the telemetry source last read it.',
      labelNames: ['node', 'gpu_uuid'] as const,
      registers,
    }),
    gpuEccVolatile: new Gauge({
      name: 'infermesh_gpu_ecc_volatile_errors',
      help: 'ECC errors since the driver loaded (volatile counts), by type: corrected, uncorrected.',
      labelNames: ['node', 'gpu_uuid', 'type'] as const,
      registers,
    }),
    gpuXidLast: new Gauge({
      name: 'infermesh_gpu_xid_last',
      help: 'The last XID error code the GPU reported (0: none seen).',
      labelNames: ['node', 'gpu_uuid'] as const,
      registers,
    }),
    gpuQuarantined: new Gauge({
      name: 'infermesh_gpu_quarantined',
      help: '1 while the GPU is quarantined, with the reason; the series is removed on release.',
      labelNames: ['node', 'gpu_uuid', 'reason'] as const,
      registers,
    }),
    membershipMembers: new Gauge({
      name: 'infermesh_membership_members',
      help: 'Gossip members this node knows (itself included), by state: alive, suspect, dead, left.',
      labelNames: ['state'] as const,
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const state of meshView.memberStates()) counts.set(state, (counts.get(state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    }),
    peerUp: new Gauge({
      name: 'infermesh_router_peer_up',
      help: "1 while the router's state stream from a GPU node it follows is connected, 0 while that node is unreachable (its endpoints unknown).",
      labelNames: ['peer', 'origin'] as const,
      registers,
      collect() {
        this.reset();
        for (const p of meshView.peers()) this.set({ peer: p.peer, origin: p.origin }, p.up ? 1 : 0);
      },
    }),
    /** Where the membership and peer gauges read (set once gossip and the router are up). */
    setMeshViewSource(source: MeshViewSource): void {
      meshView = source;
    },
    gpuTelemetryReads: new Counter({
      name: 'infermesh_gpu_telemetry_reads_total',
      help: 'GPU telemetry readings, by source and result (ok or error).',
      labelNames: ['source', 'result'] as const,
      registers,
    }),
  };
}

/** What the membership and peer gauges read at scrape time. */
export interface MeshViewSource {
  /** One state per known gossip member. */
  memberStates(): Iterable<string>;
  peers(): Iterable<{ peer: string; origin: string; up: boolean }>;
}

export type MeshMetrics = ReturnType<typeof createMeshMetrics>;
