/**
 * Builds the fleet snapshot from what a node holds: the state stores (every endpoint's
 * `ModelState`, every GPU's `GpuState`, its own and its peers'), the node directory, this node's
 * quarantine (reason, detail, since) and the router's in-flight counts. A pure function of its
 * sources, so the dashboard and a terminal view (`mesh top`) can share it and tests can feed it.
 */
import type { GpuState } from '../../core/gpu.ts';
import type { ModelState, NodeInfo } from '../../core/types.ts';
import type { FleetEndpoint, FleetGpu, FleetNode, FleetSnapshot } from './types.ts';

/** A quarantined GPU as the node's quarantine lists it. */
export interface QuarantinedGpu {
  uuid: string;
  node: string;
  reason: string;
  detail: string;
  since: number;
}

/** What a snapshot is built from; every source is read once per build. */
export interface FleetSources {
  /** The node serving the view. */
  node: string;
  nodes(): readonly NodeInfo[];
  models(): readonly ModelState[];
  gpus(): readonly GpuState[];
  /** This node's own quarantine (its GPUs' records carry the reason only). */
  quarantined?(): readonly QuarantinedGpu[];
  /** Requests the router has in flight, by endpoint id. */
  inFlight?(): ReadonlyMap<string, number>;
  /** Endpoint id → GPU UUIDs from config, for records that carry none. */
  endpointGpus?: ReadonlyMap<string, readonly string[]>;
  now?(): number;
}

const gpuKey = (node: string, uuid: string) => `${node}\u0000${uuid}`;

export function buildFleetSnapshot(sources: FleetSources): FleetSnapshot {
  const models = [...sources.models()].sort(
    (a, b) => cmp(a.node, b.node) || cmp(a.endpointId, b.endpointId) || cmp(a.model, b.model),
  );
  const inFlight = sources.inFlight?.() ?? new Map<string, number>();
  const quarantine = new Map((sources.quarantined?.() ?? []).map((q) => [gpuKey(q.node, q.uuid), q]));

  const endpoints = models.map((s) => endpointRow(s, inFlight.get(s.endpointId) ?? 0, sources.endpointGpus));
  const onGpu = new Map<string, string[]>();
  for (const e of endpoints) {
    for (const uuid of e.gpuUuids) {
      const key = gpuKey(e.node, uuid);
      const list = onGpu.get(key) ?? [];
      if (!list.includes(e.endpointId)) list.push(e.endpointId);
      onGpu.set(key, list);
    }
  }
  const gpus = sources.gpus().map((g) => gpuRow(g, quarantine.get(gpuKey(g.node, g.uuid)), onGpu));

  const nodes = new Map<string, FleetNode>();
  for (const n of sources.nodes()) {
    nodes.set(n.id, {
      id: n.id,
      roles: [...n.roles],
      status: n.status,
      zone: n.zone,
      version: n.version,
      self: n.id === sources.node,
      endpoints: 0,
      gpus: 0,
    });
  }
  // Nodes known only from state (a peer's records arrived, the directory does not list it).
  const nodeOf = (id: string): FleetNode => {
    let n = nodes.get(id);
    if (!n) {
      n = { id, roles: [], status: 'unknown', zone: '', version: '', self: false, endpoints: 0, gpus: 0 };
      nodes.set(id, n);
    }
    return n;
  };
  for (const id of new Set(endpoints.map((e) => `${e.node}\u0000${e.endpointId}`)))
    nodeOf(id.split('\u0000')[0]!).endpoints++;
  for (const g of gpus) nodeOf(g.node).gpus++;

  return {
    at: sources.now?.() ?? Date.now(),
    node: sources.node,
    nodes: [...nodes.values()].sort((a, b) => Number(b.self) - Number(a.self) || cmp(a.id, b.id)),
    gpus,
    endpoints,
    totals: {
      nodes: nodes.size,
      gpus: gpus.length,
      quarantined: gpus.filter((g) => g.quarantine).length,
      endpoints: endpoints.length,
      healthyEndpoints: endpoints.filter((e) => e.health === 'healthy' && e.loaded).length,
      inFlight: endpoints.reduce((sum, e) => sum + e.inFlight, 0),
      queued: endpoints.reduce((sum, e) => sum + (e.queueDepth ?? 0), 0),
    },
  };
}

function endpointRow(
  s: ModelState,
  inFlight: number,
  fromConfig: ReadonlyMap<string, readonly string[]> | undefined,
): FleetEndpoint {
  return {
    endpointId: s.endpointId,
    node: s.node,
    model: s.model,
    runtime: s.runtime,
    url: s.endpointUrl,
    health: s.health,
    loaded: s.loaded,
    warming: s.warming,
    ...defined({
      queueDepth: s.queueDepth,
      running: s.running,
      kvCacheUsage: s.kvCacheUsage,
      prefixCacheHitRate: s.prefixCacheHitRate,
      ttftP95Ms: s.ttftP95Ms,
      itlP95Ms: s.itlP95Ms,
      requestRate: s.requestRate,
      tokenRate: s.tokenRate,
      gpuType: s.gpuType,
    }),
    gpuUuids: [...(s.gpuUuids ?? fromConfig?.get(s.endpointId) ?? [])],
    inFlight,
    updatedAt: s.updatedAt,
  };
}

function gpuRow(g: GpuState, q: QuarantinedGpu | undefined, onGpu: Map<string, string[]>): FleetGpu {
  // A peer's quarantined GPU arrives with its reason only; this node's own adds detail and since.
  const quarantine = q
    ? { reason: q.reason, detail: q.detail, since: q.since }
    : g.quarantineReason
      ? { reason: g.quarantineReason }
      : undefined;
  return {
    node: g.node,
    uuid: g.uuid,
    index: g.index,
    name: g.name,
    source: g.source,
    healthy: g.healthy,
    ...defined({
      smUtilization: g.smUtilization,
      memoryUsedBytes: g.memoryUsedBytes,
      memoryTotalBytes: g.memoryTotalBytes,
      temperatureC: g.temperatureC,
      powerWatts: g.powerWatts,
      powerLimitWatts: g.powerLimitWatts,
      smClockMHz: g.smClockMHz,
      throttleReasons: g.throttleReasons ? [...g.throttleReasons] : undefined,
      eccCorrected: g.eccVolatileCorrected,
      eccUncorrected: g.eccVolatileUncorrected,
      xidLast: g.xidLast,
      migProfile: g.migProfile,
      quarantine,
    }),
    endpoints:
      onGpu.get(gpuKey(g.node, g.uuid)) ??
      (g.parentUuid ? onGpu.get(gpuKey(g.node, g.parentUuid)) : undefined) ??
      [],
    updatedAt: g.updatedAt,
  };
}

/** `obj` without its undefined fields (absent signals stay absent, as in the stores). */
function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
