/**
 * How the main thread and a router worker thread talk about the worker's life (start data,
 * commands, events), and the control plane's routing policy: a whole `RoutingPolicy` at start and
 * on each change (rare: an operator's write), with the shared memory of its quota buckets. Routing
 * state travels elsewhere: the journal in shared memory (`src/scoring/journal/`) and the state
 * feed on its own port (`src/signal/state/thread-feed.ts`).
 */
import type { MessagePort } from 'node:worker_threads';
import type { RoutingPolicy } from '../control/routing-policy.ts';
import type { MeshConfig } from '../core/config.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { DrainReport, RouterTls } from '../data/router-server.ts';
import type { RuntimeTls } from '../data/upstreams.ts';
import type { MetricsJson } from '../observability/exposition.ts';
import type { DecisionBatch } from './decision-relay.ts';

/** A worker's start-up data (`workerData`). */
export interface RouterWorkerData {
  /** 0-based; the worker is journal participant `index + 1` (0 is the main thread). */
  index: number;
  /** Workers in the node: each keeps its share of the per-endpoint connection limit. */
  workers: number;
  config: MeshConfig;
  /** The router port, already probed free (or picked, for port 0) by the main thread. */
  port: number;
  /** The node's routing journal, and the position every router thread reads it from. */
  journal: SharedArrayBuffer;
  journalFrom: number;
  /** This worker's end of the state feed. */
  feed: MessagePort;
  /** The routing policy at start, and the node's quota buckets for it (`data/quota/quota-table.ts`). */
  policy: RoutingPolicy;
  quotaMemory: SharedArrayBuffer;
  /** One Int32: the live routers of the mesh, which the main thread keeps current (quotas split by it). */
  liveRouters: SharedArrayBuffer;
  /** The router port's certificate (`security.tls.routerPort`), as the main thread last read it. */
  tls?: RouterTls;
  /** TLS to https runtimes, as the main thread read it (`runtimeTlsOf`). */
  runtimeTls: RuntimeTls;
  /** The node's decision watch switch (`decision-relay.ts`): record decisions while it is non-zero. */
  decisionFlag?: SharedArrayBuffer;
}

/** Main thread → worker. `policy`: the routing policy changed; its quota buckets are in `quotaMemory`. */
export type RouterWorkerCommand =
  | { kind: 'metrics'; id: number }
  | { kind: 'drain'; timeoutMs: number }
  | { kind: 'stop' }
  /** The router port's certificate changed: new connections get this one. */
  | { kind: 'tls'; tls: RouterTls }
  | { kind: 'policy'; policy: RoutingPolicy; quotaMemory: SharedArrayBuffer };

/** Worker → main thread. */
export type RouterWorkerEvent =
  | { kind: 'listening'; url: string }
  | { kind: 'failed'; code: ErrorCode; message: string }
  | { kind: 'metrics'; id: number; json: MetricsJson }
  | { kind: 'drained'; report: DrainReport }
  /** A request was refused over a tenant's quota (the worker sends at most one per key per interval). */
  | { kind: 'quota-exceeded'; tenant: string; model: string }
  /** Decisions and outcomes recorded while someone watches (`decision-relay.ts`). */
  | { kind: 'decisions'; batch: DecisionBatch };
