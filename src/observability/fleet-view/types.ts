/**
 * The fleet as the dashboard (and any other viewer) sees it: plain JSON rows built from the state
 * stores on the server (`snapshot.ts`), the chart points (`series.ts`), and the events of the
 * dashboard's stream (`/ui/stream`). The browser code in `web/` imports these types only.
 */
import type { DecisionRecord } from '../../core/decision-record.ts';

/** One node of the mesh. */
export interface FleetNode {
  id: string;
  roles: string[];
  /** `healthy`, `unhealthy`, `draining`, `offline` (the control plane's), or `unknown` (seen only in state). */
  status: string;
  zone: string;
  version: string;
  /** The node serving this view. */
  self: boolean;
  endpoints: number;
  gpus: number;
}

/** One GPU (or MIG instance) with its quarantine and the endpoints that run on it. */
export interface FleetGpu {
  node: string;
  uuid: string;
  index: number;
  name: string;
  source: string;
  healthy: boolean;
  smUtilization?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  temperatureC?: number;
  powerWatts?: number;
  powerLimitWatts?: number;
  smClockMHz?: number;
  throttleReasons?: string[];
  eccCorrected?: number;
  eccUncorrected?: number;
  xidLast?: number;
  migProfile?: string;
  /** Present while quarantined: why, and (from this node's own quarantine) the detail and since when. */
  quarantine?: { reason: string; detail?: string; since?: number };
  endpoints: string[];
  updatedAt: number;
}

/** One model on one runtime endpoint, with what this router has in flight there. */
export interface FleetEndpoint {
  endpointId: string;
  node: string;
  model: string;
  runtime: string;
  url: string;
  health: string;
  loaded: boolean;
  warming: boolean;
  queueDepth?: number;
  running?: number;
  kvCacheUsage?: number;
  prefixCacheHitRate?: number;
  ttftP95Ms?: number;
  itlP95Ms?: number;
  requestRate?: number;
  tokenRate?: number;
  gpuType?: string;
  gpuUuids: string[];
  /** Requests this router sent there and that have not finished. */
  inFlight: number;
  updatedAt: number;
}

/** The whole fleet at one moment. */
export interface FleetSnapshot {
  /** Unix ms. */
  at: number;
  /** The node serving the view. */
  node: string;
  nodes: FleetNode[];
  gpus: FleetGpu[];
  endpoints: FleetEndpoint[];
  totals: {
    nodes: number;
    gpus: number;
    quarantined: number;
    endpoints: number;
    healthyEndpoints: number;
    inFlight: number;
    queued: number;
  };
}

/** One point of the live charts (one a second). */
export interface SeriesPoint {
  /** Unix seconds. */
  t: number;
  /** TTFT (arrival to first byte) per model over the last few seconds, ms; null without requests. */
  ttft: Record<string, { p50: number | null; p99: number | null }>;
  /** Requests finished per second by HTTP status, over the last interval. */
  rps: Record<string, number>;
  /** Queue depth per endpoint id, as last scraped. */
  queue: Record<string, number>;
  /** KV cache use per endpoint id, 0..1. */
  kv: Record<string, number>;
}

/** A control-plane event (drains, pins, quarantines, nodes joining…). */
export interface ControlEventRow {
  revision: number;
  type: string;
  at: number;
  source: string;
  data: Record<string, string>;
}

/** The stream's first event: everything a new viewer needs to draw at once. */
export interface StreamHello {
  node: string;
  version: string;
  /** How often `fleet` events come (ms). */
  intervalMs: number;
  fleet: FleetSnapshot;
  series: SeriesPoint[];
  decisions: DecisionRecord[];
  events: ControlEventRow[];
}

/** A periodic update. */
export interface StreamFleet {
  fleet: FleetSnapshot;
  point: SeriesPoint;
}
