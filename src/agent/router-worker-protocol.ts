/**
 * How the main thread and a router worker thread talk about the worker's life (start data,
 * commands, events). Routing decisions travel on a separate port (`src/data/decisions/`).
 */
import type { MessagePort } from 'node:worker_threads';
import type { MeshConfig } from '../core/config.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { DrainReport } from '../data/router-server.ts';
import type { MetricsJson } from '../observability/exposition.ts';

/** A worker's start-up data (`workerData`). */
export interface RouterWorkerData {
  index: number;
  /** Workers in the node: each keeps its share of the per-endpoint connection limit. */
  workers: number;
  nodeId: string;
  logLevel: string;
  router: MeshConfig['router'];
  /** The router port, already probed free (or picked, for port 0) by the main thread. */
  port: number;
  blockTokens: number;
  /** This worker's end of its decision channel. */
  decisions: MessagePort;
}

/** Main thread → worker. */
export type RouterWorkerCommand =
  { kind: 'metrics'; id: number } | { kind: 'drain'; timeoutMs: number } | { kind: 'stop' };

/** Worker → main thread. */
export type RouterWorkerEvent =
  | { kind: 'listening'; url: string }
  | { kind: 'failed'; code: ErrorCode; message: string }
  | { kind: 'metrics'; id: number; json: MetricsJson }
  | { kind: 'drained'; report: DrainReport };
