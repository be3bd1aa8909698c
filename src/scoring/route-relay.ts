/**
 * Active-active routers, one picture of the load: every router tells the others of each request it
 * sends to an endpoint (its prompt and output sizes and prompt block hashes) and of that request's
 * end, and every router counts the others' requests as it counts its own (`routed` … `finished`,
 * marked relayed so they are not told on again). The GPU node serving the endpoints carries the
 * events between the routers (`StatePlane.ShareInFlight`, src/agent/in-flight-share.ts).
 *
 * Why whole requests, not totals. A router's decision reads what it keeps itself
 * (src/scoring/outcomes.ts): requests in flight and their tokens, the predicted prefill queue of
 * each endpoint, and its prefix index. Shared as totals (in-flight levels and counters of work
 * sent, which this module replaced), the others' work joined the queue but never left it early,
 * their prompts never reached the prefix index, and three routers behind one fleet ran TTFT p99
 * 1.18× one router's on Mooncake (virtual time, 5 seeds); counted request by request, as here, the
 * receiver computes each request's prefill work with its own prefix match, records its prompt
 * blocks, and ends it when it ends: 1.03× (bench/results/routing-multi-router-virtual.md).
 * First tokens are relayed too: another router's prefill that ended early moves this router's
 * queue up, and its time to first token teaches this router the GPU's speed as its own would.
 */
import type { ScoringEngine } from './engine.ts';
import type { RoutingEvent } from './journal/events.ts';
import type { RouteTicket } from './outcomes.ts';

/** One routing event as routers exchange it (the `RouteEvent` message). */
export type RelayedEvent =
  | {
      kind: 'routed';
      /** The request, unique among the sender's running requests. */
      request: number;
      endpointId: string;
      model: string;
      promptTokens: number;
      maxTokens: number;
      blockHashes: ArrayLike<number>;
    }
  | { kind: 'first'; request: number; endpointId: string; model: string; ttftMs: number }
  | { kind: 'finished'; request: number; endpointId: string; model: string; ok: boolean };

/** Relayed requests kept open per router at most; past it the oldest ends (a sender that lost ends). */
const MAX_OPEN_PER_ROUTER = 65_536;

export interface RouteRelay {
  /** This router's own events on node `nodeId`'s endpoints since the last call, in order. */
  take(): RelayedEvent[];
  /** Counts another router's events. */
  apply(routerId: string, events: readonly RelayedEvent[]): void;
  /** The routers the node hears from now: the open requests of any other router end. */
  live(routerIds: readonly string[]): void;
  /** Ends every relayed request still open and stops taking this router's events. */
  close(): void;
}

/** A relay between this router's engine and the other routers through GPU node `nodeId`. */
export function createRouteRelay(engine: ScoringEngine, nodeId: string): RouteRelay {
  let outbox: RelayedEvent[] = [];
  const open = new Map<string, Map<number, RouteTicket>>();

  const untap = engine.tapRouting((e: RoutingEvent) => {
    if (e.kind === 'first' && e.censored) return; // a withdrawal's bound: the sender's own lesson
    const [endpointId = '', model = ''] = e.key.split('\u0000');
    if (engine.fleet.get(endpointId, model)?.state.node !== nodeId) return;
    const request = e.origin * 2 ** 32 + e.ticket;
    if (e.kind === 'routed')
      outbox.push({
        kind: 'routed',
        request,
        endpointId,
        model,
        promptTokens: e.promptTokens,
        maxTokens: e.tokens - e.promptTokens,
        blockHashes: Array.from(e.hashes),
      });
    else if (e.kind === 'first') outbox.push({ kind: 'first', request, endpointId, model, ttftMs: e.ttftMs });
    else outbox.push({ kind: 'finished', request, endpointId, model, ok: e.ok });
  });

  const end = (ticket: RouteTicket, ok: boolean) => engine.finished(ticket, { ok });
  const endRouter = (routerId: string) => {
    for (const ticket of open.get(routerId)?.values() ?? []) end(ticket, false);
    open.delete(routerId);
  };

  return {
    take() {
      engine.sync(); // the worker threads' latest events
      const out = outbox;
      outbox = [];
      return out;
    },

    apply(routerId, events) {
      let mine = open.get(routerId);
      if (!mine) open.set(routerId, (mine = new Map<number, RouteTicket>()));
      for (const e of events) {
        const running = mine.get(e.request);
        if (e.kind === 'first') {
          if (running) engine.firstToken(running, e.ttftMs);
          continue;
        }
        if (e.kind === 'finished') {
          if (running) end(running, e.ok);
          mine.delete(e.request);
          continue;
        }
        if (running) end(running, false); // the sender restarted its numbering
        const view = engine.fleet.get(e.endpointId, e.model);
        if (!view) continue;
        const ticket = engine.routed(
          view,
          {
            model: e.model,
            promptTokens: e.promptTokens,
            maxTokens: e.maxTokens,
            blockHashes: Array.from(e.blockHashes),
            // Not streamed here: this router does not wait for its first token (see `first`).
            stream: false,
          },
          undefined,
          { relayed: true },
        );
        mine.set(e.request, ticket);
        if (mine.size > MAX_OPEN_PER_ROUTER) {
          const [oldest, t] = mine.entries().next().value as [number, RouteTicket];
          end(t, false);
          mine.delete(oldest);
        }
      }
    },

    live(routerIds) {
      const keep = new Set(routerIds);
      for (const routerId of [...open.keys()]) if (!keep.has(routerId)) endRouter(routerId);
    },

    close() {
      untap();
      outbox = [];
      for (const routerId of [...open.keys()]) endRouter(routerId);
    },
  };
}
