/**
 * The GPU node's side of `StatePlane.ShareInFlight`: the latest in-flight report of every router
 * that sends traffic to this node's endpoints, and one stream per router that answers with the
 * others' reports whenever one changes. A report is dropped when its stream ends or when it is not
 * renewed within the TTL (a router that stopped without closing its stream, a half-open
 * connection). The node does not interpret the numbers: routers sum them (`src/scoring/peer-load.ts`).
 */
import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import {
  InFlightShareSchema,
  type InFlightReport,
  type InFlightShare,
} from '../../gen/infermesh/state/v1/state_pb.js';
import type { Logger } from '../../observability/log.ts';

/** One router's in-flight work on one (endpoint, model), as reported. */
export interface EndpointInFlight {
  endpointId: string;
  model: string;
  inFlight: number;
  inFlightTokens: number;
  /** Counter: requests sent since the router started. */
  sentRequests: number;
  /** Counter: their prefill work in linear tokens. */
  sentWork: number;
}

/** A router's report as the registry holds it. */
export interface RouterReport {
  routerId: string;
  endpoints: EndpointInFlight[];
  /** Registry clock (ms) of the report. */
  at: number;
}

export interface InFlightRegistryOptions {
  /** Reports not renewed within this are dropped (ms). Default 3000 (reporters renew every second). */
  ttlMs?: number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
}

export interface InFlightRegistry {
  readonly ttlMs: number;
  /** Replaces `routerId`'s report. */
  report(routerId: string, endpoints: EndpointInFlight[]): void;
  /** Drops `routerId`'s report (its stream ended). */
  drop(routerId: string): void;
  /** Live reports, every router but `except`, oldest expired first. */
  reports(except?: string): RouterReport[];
  /** Calls `listener` after every change (a report, a drop, an expiry); returns the unsubscribe. */
  watch(listener: () => void): () => void;
  /** Drops expired reports now (also done by `reports`); returns whether any was. */
  expire(): boolean;
  /** Stops the expiry timer. */
  close(): void;
}

export function createInFlightRegistry(options: InFlightRegistryOptions = {}): InFlightRegistry {
  const ttlMs = options.ttlMs ?? 3000;
  const now = options.now ?? Date.now;
  const byRouter = new Map<string, RouterReport>();
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };
  const expire = () => {
    const cutoff = now() - ttlMs;
    let dropped = false;
    for (const [id, r] of byRouter)
      if (r.at < cutoff) {
        byRouter.delete(id);
        dropped = true;
      }
    return dropped;
  };
  // Expiry must reach routers that stopped reporting even when nothing else changes.
  const timer = setInterval(
    () => {
      if (expire()) notify();
    },
    Math.max(50, Math.round(ttlMs / 4)),
  ).unref();
  return {
    ttlMs,
    report(routerId, endpoints) {
      byRouter.set(routerId, { routerId, endpoints, at: now() });
      notify();
    },
    drop(routerId) {
      if (byRouter.delete(routerId)) notify();
    },
    reports(except) {
      expire();
      return [...byRouter.values()].filter((r) => r.routerId !== except);
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    expire,
    close: () => clearInterval(timer),
  };
}

const fromProto = (r: InFlightReport): EndpointInFlight[] =>
  r.endpoints.map((e) => ({
    endpointId: e.endpointId,
    model: e.model,
    inFlight: e.inFlight,
    inFlightTokens: e.inFlightTokens,
    sentRequests: e.sentRequests,
    sentWork: e.sentWork,
  }));

/**
 * Serves one `ShareInFlight` stream: reads the router's reports in the background and yields the
 * other routers' reports on every change (coalesced: a burst of changes while the client is slow
 * costs one message). The router's report is dropped when its stream ends.
 */
export async function* shareInFlightStream(
  registry: InFlightRegistry,
  reports: AsyncIterable<InFlightReport>,
  ctx: HandlerContext,
  options: { nodeId: string; logger?: Logger },
): AsyncGenerator<InFlightShare> {
  let routerId: string | undefined;
  let dirty = true;
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  const unwatch = registry.watch(poke);
  const onAbort = () => wake?.();
  ctx.signal.addEventListener('abort', onAbort);
  const reading = (async () => {
    try {
      for await (const r of reports) {
        if (!r.routerId) continue;
        if (routerId !== undefined && r.routerId !== routerId) registry.drop(routerId);
        routerId = r.routerId;
        registry.report(routerId, fromProto(r));
      }
    } catch (err) {
      if (!ctx.signal.aborted) options.logger?.debug({ err }, 'in-flight report stream failed');
    } finally {
      ended = true;
      wake?.();
    }
  })();
  try {
    while (!ctx.signal.aborted && !ended) {
      if (!dirty) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      dirty = false;
      yield create(InFlightShareSchema, {
        nodeId: options.nodeId,
        ttlMs: registry.ttlMs,
        routers: registry.reports(routerId).map((r) => ({ routerId: r.routerId, endpoints: r.endpoints })),
      });
    }
  } finally {
    unwatch();
    ctx.signal.removeEventListener('abort', onAbort);
    if (routerId !== undefined) registry.drop(routerId);
    void reading; // ends with the request stream, which ends with this call
  }
}
