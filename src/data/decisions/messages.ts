/**
 * The messages between a router worker thread and the node's decision owner (the main thread's
 * scoring engine), over one MessagePort per worker. Each side sends arrays: everything one event
 * loop turn produced goes in one `postMessage`, so under load the cost of crossing threads is
 * shared by many requests.
 */
import type { ErrorCode } from '../../core/errors.ts';
import type { Protocol } from '../../core/types.ts';
import type { PickHints } from '../request-hints.ts';

/** Worker → owner. `id` names one request's lease, unique per worker. */
export type WorkerMessage =
  | {
      kind: 'pick';
      id: number;
      model: string;
      protocol: Protocol;
      /** Endpoint ids already tried. */
      exclude?: string[];
      hints: PickHints;
    }
  /** The request's first token reached the worker. */
  | { kind: 'first'; id: number }
  /** The request ended; its lease is released. */
  | { kind: 'end'; id: number; ok: boolean };

/** What the workers need to know of the fleet without asking: served and known models. */
export interface ModelsSnapshot {
  /** Model → the protocols it is routable over now. */
  served: Record<string, Protocol[]>;
  /** Every model some endpoint knows, routable or not (metric labels are bounded to these). */
  known: string[];
}

/** Owner → worker. */
export type OwnerMessage =
  | { kind: 'route'; id: number; endpointId: string; url: string }
  | { kind: 'refused'; id: number; code: ErrorCode; message: string; details: Record<string, unknown> }
  | { kind: 'models'; snapshot: ModelsSnapshot };
