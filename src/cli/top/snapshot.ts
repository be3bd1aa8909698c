/**
 * What one frame of `mesh top` shows, read from the node's API: nodes (ControlPlane.ListNodes),
 * GPUs (StatePlane.ListGpuStates) and endpoints (StatePlane.ListModelStates), plus, when
 * `--metrics-url` names the node's metrics port, the router's own in-flight requests per endpoint
 * (`infermesh_router_in_flight_requests`: no RPC carries them). The snapshot is plain data with
 * `null` for a signal the source does not report, so `-o json` prints it as it is.
 */
import { nodeFromProto } from '../../control/control-proto.ts';
import { MeshError } from '../../core/errors.ts';
import type { NodeInfo, NodeRole } from '../../core/types.ts';
import type {
  GpuState as PbGpuState,
  ModelState as PbModelState,
} from '../../gen/infermesh/state/v1/state_pb.js';
import { healthFromProto } from '../../signal/state/model-state-proto.ts';
import { parsePrometheus } from '../../signal/runtime/prometheus/index.ts';
import type { MeshClients } from '../client.ts';

/** One node row. */
export interface TopNode {
  id: string;
  roles: NodeRole[];
  status: NodeInfo['status'];
  zone: string;
  version: string;
}

/** One GPU (or MIG instance) row; fractions are 0..1. */
export interface TopGpu {
  node: string;
  uuid: string;
  index: number;
  name: string;
  migProfile: string;
  utilization: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  temperatureC: number | null;
  powerWatts: number | null;
  powerLimitWatts: number | null;
  smClockMhz: number | null;
  eccUncorrected: number | null;
  xidLast: number | null;
  healthy: boolean;
  /** Why it is out of service (quarantine reason), null while healthy or when unknown. */
  quarantineReason: string | null;
}

/** One (endpoint, model) row; fractions are 0..1, latencies in ms. */
export interface TopEndpoint {
  endpointId: string;
  node: string;
  model: string;
  runtime: string;
  health: string;
  loaded: boolean;
  warming: boolean;
  queueDepth: number | null;
  running: number | null;
  kvCacheUsage: number | null;
  prefixCacheHitRate: number | null;
  ttftP95Ms: number | null;
  itlP95Ms: number | null;
  /** Requests the router of `--metrics-url` has in flight there; null without it. */
  inFlight: number | null;
  gpuUuids: string[];
}

/** The whole fleet view at one time (`mesh top -o json --once`). */
export interface TopSnapshot {
  /** The API URL the snapshot was read from. */
  endpoint: string;
  /** ISO time the snapshot was read. */
  time: string;
  nodes: TopNode[];
  gpus: TopGpu[];
  endpoints: TopEndpoint[];
}

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

const gpuRow = (g: PbGpuState): TopGpu => ({
  node: g.node,
  uuid: g.gpuUuid,
  index: g.index,
  name: g.name,
  migProfile: g.migProfile,
  utilization: orNull(g.smUtilization),
  memoryUsedBytes: orNull(g.memoryUsedBytes ?? (g.vramUsedGb === undefined ? undefined : g.vramUsedGb * 1e9)),
  memoryTotalBytes: orNull(
    g.memoryTotalBytes ?? (g.vramTotalGb === undefined ? undefined : g.vramTotalGb * 1e9),
  ),
  temperatureC: orNull(g.temperatureC),
  powerWatts: orNull(g.powerWatts),
  powerLimitWatts: orNull(g.powerLimitWatts),
  smClockMhz: orNull(g.smClockMhz),
  eccUncorrected: orNull(g.eccVolatileUncorrected),
  xidLast: orNull(g.xidLast),
  healthy: g.healthy,
  quarantineReason: g.quarantineReason || null,
});

const endpointRow = (s: PbModelState, inFlight: ReadonlyMap<string, number> | undefined): TopEndpoint => ({
  endpointId: s.endpointId,
  node: s.labels?.node ?? '',
  model: s.labels?.model ?? '',
  runtime: s.labels?.runtime ?? '',
  health: healthFromProto(s.health),
  loaded: s.loaded,
  warming: s.warming,
  queueDepth: orNull(s.queueDepth),
  running: orNull(s.running),
  kvCacheUsage: orNull(s.kvCacheUsage),
  prefixCacheHitRate: orNull(s.prefixCacheHitRate),
  ttftP95Ms: orNull(s.ttftP95Ms),
  itlP95Ms: orNull(s.itlP95Ms),
  // The gauge lists only endpoints with requests in flight: absent there means none.
  inFlight: inFlight ? (inFlight.get(s.endpointId) ?? 0) : null,
  gpuUuids: [...s.gpuUuids],
});

/** Reads `infermesh_router_in_flight_requests` per endpoint from a meshd metrics URL. */
export async function readInFlight(
  metricsUrl: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const url = new URL(metricsUrl);
  if (url.pathname === '/') url.pathname = '/metrics';
  let text: string;
  try {
    const deadline = AbortSignal.timeout(timeoutMs);
    const res = await fetch(url, { signal: signal ? AbortSignal.any([deadline, signal]) : deadline });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new MeshError('unavailable', `cannot read in-flight requests from ${url.href}: ${why}`);
  }
  const counts = new Map<string, number>();
  for (const s of parsePrometheus(text).family('infermesh_router_in_flight_requests')?.samples ?? []) {
    const endpoint = s.labels.endpoint;
    if (endpoint !== undefined) counts.set(endpoint, (counts.get(endpoint) ?? 0) + s.value);
  }
  return counts;
}

/** Options of one read. */
export interface SnapshotOptions {
  /** The API URL (shown in the header and the JSON). */
  endpoint: string;
  /** The node's metrics URL, for the router's in-flight requests. */
  metricsUrl?: string;
  /** Deadline of the metrics read. */
  timeoutMs: number;
  /** Ends the metrics read early (the view is quitting). */
  signal?: AbortSignal;
  now?: () => number;
}

/** Reads one snapshot: the three lists (and the metrics) in parallel. */
export async function readSnapshot(clients: MeshClients, options: SnapshotOptions): Promise<TopSnapshot> {
  const at = (options.now ?? Date.now)();
  const [nodes, gpus, states, inFlight] = await Promise.all([
    clients.control.listNodes({}, clients.callOptions),
    clients.state.listGpuStates({}, clients.callOptions),
    clients.state.listModelStates({}, clients.callOptions),
    options.metricsUrl ? readInFlight(options.metricsUrl, options.timeoutMs, options.signal) : undefined,
  ]);
  return {
    endpoint: options.endpoint,
    time: new Date(at).toISOString(),
    nodes: nodes.nodes.map(nodeFromProto).map((n) => ({
      id: n.id,
      roles: n.roles,
      status: n.status,
      zone: n.zone,
      version: n.version,
    })),
    gpus: gpus.states.map(gpuRow),
    endpoints: states.states.map((s) => endpointRow(s, inFlight)),
  };
}
