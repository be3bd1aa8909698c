/**
 * Active-active routers, one picture of the load: what a router shares of its in-flight work per
 * endpoint, and how it counts what the others share, so N routers in front of one fleet decide as
 * one would. The GPU node that serves an endpoint relays the reports (`StatePlane.ShareInFlight`,
 * src/signal/state/in-flight-registry.ts); src/agent/in-flight-share.ts carries them.
 *
 * What is shared, per (endpoint, model), and why: one router's decision reads, besides scraped
 * state, three things it keeps itself (src/scoring/outcomes.ts) — requests in flight (batch slots:
 * the wait model's overflow term, the in-flight scorer), their tokens (KV pressure) and the
 * predicted prefill queue (`busyUntilMs`, the work-left scorer's and admission's main term). The
 * first two are levels, shared as they are and summed over the other routers (`peerInFlight`,
 * `peerInFlightTokens`; a router's own counts stay its own, so nothing is counted twice). The
 * queue is not shared as a level: each router's `busyUntilMs` is a timeline that drains with time,
 * and adding two timelines would drain the sum twice as fast. Instead each router shares counters
 * of the requests it sent and their prefill work (in linear tokens, after its own prefix match),
 * and a receiver queues the difference since the last report into its own timeline exactly as it
 * queues a request it sends itself (`max(now, busyUntil) + work ÷ rate + overhead`, at its own
 * learned rate for that GPU). Then one timeline holds everyone's work, as a single router's would;
 * it lags the others' sends by one report (≤ ~20 ms plus a hop) instead of a scrape interval.
 * What is not shared: the others' first tokens (their early finishes do not pull the queue
 * forward; the runtime's next scrape and our own first tokens do) and their prompt blocks (each
 * router's prefix index sees its own traffic; the KV-event index sees everyone's).
 */
import type { ScoringEngine } from './engine.ts';
import { viewKey, type ViewKey } from './journal/events.ts';

/** One router's in-flight work on one (endpoint, model), as shared. */
export interface EndpointLoadReport {
  endpointId: string;
  model: string;
  inFlight: number;
  inFlightTokens: number;
  /** Counter: requests sent there since the router's view of it was made. */
  sentRequests: number;
  /** Counter: their prefill work in linear tokens. */
  sentWork: number;
}

/** Another router's latest report. */
export interface PeerReport {
  routerId: string;
  endpoints: readonly EndpointLoadReport[];
}

export interface PeerLoadTracker {
  /** This router's own load on node `nodeId`'s endpoints (what it reports to that node). */
  ownReport(nodeId: string): EndpointLoadReport[];
  /** Counts the other routers' latest reports (the whole set: a router absent from it is gone). */
  apply(reports: readonly PeerReport[]): void;
  /** Forgets every peer level this tracker set (its link to the node broke or stopped). */
  clear(): void;
}

interface Counters {
  requests: number;
  work: number;
}

/**
 * A tracker for one GPU node's endpoints; `selfId` is this router's node id (its own report, should
 * the node echo it, is ignored).
 */
export function createPeerLoadTracker(engine: ScoringEngine, selfId: string): PeerLoadTracker {
  /** Last counters seen per router, per view. */
  const lastSent = new Map<string, Map<ViewKey, Counters>>();
  /** Levels last journaled per view (0 levels are dropped). */
  const levels = new Map<ViewKey, { endpointId: string; model: string; inFlight: number; tokens: number }>();

  return {
    ownReport(nodeId) {
      engine.sync();
      const out: EndpointLoadReport[] = [];
      for (const v of engine.fleet.all()) {
        if (v.state.node !== nodeId || (v.inFlight === 0 && v.sentRequests === 0)) continue;
        out.push({
          endpointId: v.endpointId,
          model: v.state.model,
          inFlight: v.inFlight,
          inFlightTokens: v.inFlightTokens,
          sentRequests: v.sentRequests,
          sentWork: v.sentWork,
        });
      }
      return out;
    },

    apply(reports) {
      const sums = new Map<
        ViewKey,
        {
          endpointId: string;
          model: string;
          inFlight: number;
          tokens: number;
          requests: number;
          work: number;
        }
      >();
      const seenRouters = new Set<string>();
      for (const r of reports) {
        if (r.routerId === selfId || seenRouters.has(r.routerId)) continue;
        seenRouters.add(r.routerId);
        const before = lastSent.get(r.routerId);
        const after = new Map<ViewKey, Counters>();
        for (const e of r.endpoints) {
          const key = viewKey(e.endpointId, e.model);
          // A view first mentioned by a router seen before: its counters started at 0 with us watching.
          const prev = before ? (before.get(key) ?? { requests: 0, work: 0 }) : undefined;
          // First sight of a router: its history is not queued anew (it is what the scrape shows).
          // A counter that went back is a restarted router counting from 0.
          const dReq = prev
            ? e.sentRequests >= prev.requests
              ? e.sentRequests - prev.requests
              : e.sentRequests
            : 0;
          const dWork = prev ? (e.sentWork >= prev.work ? e.sentWork - prev.work : e.sentWork) : 0;
          after.set(key, { requests: e.sentRequests, work: e.sentWork });
          let s = sums.get(key);
          if (!s)
            sums.set(
              key,
              (s = {
                endpointId: e.endpointId,
                model: e.model,
                inFlight: 0,
                tokens: 0,
                requests: 0,
                work: 0,
              }),
            );
          s.inFlight += e.inFlight;
          s.tokens += e.inFlightTokens;
          s.requests += dReq;
          s.work += dWork;
        }
        lastSent.set(r.routerId, after);
      }
      for (const id of [...lastSent.keys()]) if (!seenRouters.has(id)) lastSent.delete(id);
      for (const [key, s] of sums) {
        const prev = levels.get(key);
        const changed = !prev || prev.inFlight !== s.inFlight || prev.tokens !== s.tokens;
        if (!changed && s.requests === 0 && s.work === 0) continue;
        engine.peerLoad(s.endpointId, s.model, {
          inFlight: s.inFlight,
          tokens: s.tokens,
          requests: s.requests,
          work: s.work,
        });
        if (s.inFlight === 0 && s.tokens === 0) levels.delete(key);
        else
          levels.set(key, {
            endpointId: s.endpointId,
            model: s.model,
            inFlight: s.inFlight,
            tokens: s.tokens,
          });
      }
      // Views no live router mentions any more: their levels go back to 0.
      for (const [key, l] of [...levels]) {
        if (sums.has(key)) continue;
        levels.delete(key);
        engine.peerLoad(l.endpointId, l.model, { inFlight: 0, tokens: 0, requests: 0, work: 0 });
      }
    },

    clear() {
      for (const l of levels.values())
        engine.peerLoad(l.endpointId, l.model, { inFlight: 0, tokens: 0, requests: 0, work: 0 });
      levels.clear();
      lastSent.clear();
    },
  };
}
