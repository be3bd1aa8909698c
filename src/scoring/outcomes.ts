/**
 * What the router learns from its own traffic, as journal events: a sent request counts against
 * its endpoint (in-flight, expected KV tokens, predicted prefill queue, prefix index) until it
 * ends; its first token teaches the GPU type's service rate and corrects the queue estimate; its
 * end feeds the endpoint's latency estimates. The rate learns from a measured service time, not
 * from TTFT minus a predicted wait (service-rates.ts says why): `first token − max(sent, the
 * previous first token at the endpoint)`, with the endpoint's last first-token time kept here,
 * and no confidence when the request was sent into full batch slots or KV space. `routed`, `firstToken` and `finished` turn what the
 * caller saw into events; `apply` is the one place that changes the state, at the event's own
 * time, so every replica applying the same journal holds the same numbers.
 */
import type { Fleet } from './fleet.ts';
import type { FinishedEvent, FirstTokenEvent, RoutingEvent, ViewKey } from './journal/events.ts';
import { viewKey } from './journal/events.ts';
import type { Journal } from './journal/journal.ts';
import type { PrefixIndex } from './prefix-index.ts';
import type { ServiceRates } from './service-rates.ts';
import type { ModelState } from '../core/types.ts';
import type { EndpointView, ScoringContext, ScoringRequest } from './types.ts';
import { prefillOverheadMs, prefillWork, uncachedTokens } from './wait-model.ts';

/** One routed request, from send to end, as its router holds it. */
export interface RouteTicket {
  readonly origin: number;
  readonly id: number;
  readonly key: ViewKey;
  readonly view: EndpointView;
  readonly tokens: number;
  readonly uncached: number;
  /** Prefill work in linear tokens (`prefillWork`): what the queue holds for it, what the rate learns from. */
  readonly work: number;
  readonly sentAt: number;
  readonly predictedWaitMs: number;
  /** The endpoint's batch slots or KV space were all taken by the router's own requests when sent. */
  readonly queued: boolean;
  /** The answer streams: its first token will be reported. */
  readonly streamed: boolean;
  /** Another router's request, counted as it told (route-relay.ts): not relayed on. */
  readonly relayed: boolean;
  /** Predicted time the request's prefill completes (engine clock ms); set when its event applies. */
  predictedDoneAt: number;
  firstTokenSeen: boolean;
  done: boolean;
}

export interface OutcomeTracker {
  routed(view: EndpointView, req: ScoringRequest, predictedWaitMs: number, relayed?: boolean): RouteTicket;
  firstToken(ticket: RouteTicket, ttftMs: number): void;
  /**
   * The request is being withdrawn `elapsedMs` after it was sent, with no first token (a hedge race's
   * loser). When that is past its predicted prefill end, the wait so far is a lower bound of the
   * endpoint's service time and teaches the rate: a straggler whose slow requests are all hedged
   * away never shows a slow first token, and without this it would look as fast as ever.
   */
  withdrawn(ticket: RouteTicket, elapsedMs: number): void;
  finished(ticket: RouteTicket, outcome: { ok: boolean; e2eMs?: number; ttftMs?: number }): void;
  apply(event: RoutingEvent): void;
  /**
   * Calls `listener` with every event of this router's own requests as this replica applies it
   * (not the relayed ones): what route-relay.ts tells the other routers.
   */
  tap(listener: (event: RoutingEvent) => void): () => void;
  reset(): void;
  /** Ends, as failures, the open requests of a participant that went away (`trackOpen` only). */
  abandon(origin: number): void;
}

/** Streaming p95: moves up by 0.95·step on a sample above, down by 0.05·step below. */
function updateP95(cur: number, x: number): number {
  if (!Number.isFinite(cur)) return x;
  const step = Math.max(1, cur * 0.05);
  return x > cur ? cur + 0.95 * step : cur - 0.05 * step;
}

/** Confidence in a service time measured from the request's own send (nothing of ours ahead). */
const IDLE_CONFIDENCE = 1;
/** Confidence in one measured as the gap after the previous first token (co-scheduling makes gaps noisy; their sum is right). */
const GAP_CONFIDENCE = 0.5;

/**
 * Where a runtime's own metrics bound an endpoint's prefill rate from below: tokens/s, NaN when not
 * reported. The hook for the signal plane: no adapter fills it today (the vLLM adapter scrapes
 * prompt tokens, prefix hits and the TTFT histogram, not `vllm:request_prefill_time_seconds`);
 * once `ModelState` carries `prefillRateFloor` (vLLM: Δ(prompt_tokens_total −
 * prefix_cache_hits_total) ÷ Δ request_prefill_time_seconds_sum over a scrape window), it is read
 * here, journaled with the first token, and the learned rate never drops below it.
 */
export function runtimeRateOf(state: ModelState & { prefillRateFloor?: number }): number {
  const r = state.prefillRateFloor;
  return r !== undefined && r > 0 && Number.isFinite(r) ? r : Number.NaN;
}

/** Whether a request sent now to `v` would wait for a batch slot or KV space behind the router's own requests. */
function sendsIntoFullEndpoint(v: EndpointView, tokens: number): boolean {
  if (v.maxBatch > 0 && v.inFlight >= v.maxBatch) return true;
  return v.kvTokens > 0 && v.inFlightTokens + tokens > v.kvTokens;
}

/** What `abandon` needs to end another participant's request. */
type OpenRequest = Pick<
  FinishedEvent,
  'key' | 'tokens' | 'work' | 'predictedDoneAt' | 'firstTokenSeen' | 'streamed' | 'relayed'
>;

export interface OutcomeDeps {
  ctx: ScoringContext;
  rates: ServiceRates;
  prefixIndex: PrefixIndex;
  fleet: Fleet;
  journal: Journal;
  /** Keep every participant's open requests, so `abandon` can end them (the main thread does). */
  trackOpen?: boolean;
}

export function createOutcomeTracker(deps: OutcomeDeps): OutcomeTracker {
  const { ctx, rates, prefixIndex, fleet, journal } = deps;
  const prefillMs = (v: EndpointView, work: number) =>
    (work * 1000) / ctx.serviceRate(v) + prefillOverheadMs(v);
  /** This participant's tickets whose `routed` event has not applied yet. */
  const ownPending = new Map<number, RouteTicket>();
  const open = deps.trackOpen ? new Map<number, Map<number, OpenRequest>>() : undefined;
  /** Per endpoint view: engine-clock time of the latest first token applied (−∞ before any). */
  const lastFirstAt = new Map<ViewKey, number>();
  const taps = new Set<(event: RoutingEvent) => void>();
  let nextId = 1;

  function apply(e: RoutingEvent): void {
    const v = fleet.getByKey(e.key);
    if (!e.relayed) for (const t of taps) t(e);
    if (e.kind === 'routed') {
      const own = e.origin === journal.origin ? ownPending.get(e.ticket) : undefined;
      ownPending.delete(e.ticket);
      if (!v) {
        if (own) own.predictedDoneAt = e.at;
        return;
      }
      v.inFlight++;
      v.inFlightTokens += e.tokens;
      if (e.streamed) v.awaitingFirst++;
      v.busyUntilMs = Math.max(e.at, v.busyUntilMs) + prefillMs(v, e.work);
      if (e.hashes.length > 0) prefixIndex.record(v, e.hashes);
      if (own) own.predictedDoneAt = v.busyUntilMs;
      openOf(e.origin)?.set(e.ticket, {
        key: e.key,
        tokens: e.tokens,
        work: e.work,
        predictedDoneAt: v.busyUntilMs,
        firstTokenSeen: false,
        streamed: e.streamed,
        relayed: e.relayed,
      });
      return;
    }
    if (e.kind === 'first' && e.censored) {
      // Only an overdue withdrawal says the endpoint is slower than believed; one on time says nothing.
      if (v && e.sentAt + e.ttftMs > e.predictedDoneAt) learnRate(v, e);
      return;
    }
    if (e.kind === 'first') {
      const request = openOf(e.origin)?.get(e.ticket);
      if (request) request.firstTokenSeen = true;
      if (!v) return;
      if (e.streamed) v.awaitingFirst = Math.max(0, v.awaitingFirst - 1);
      learnRate(v, e);
      v.observedP95Ms = updateP95(v.observedP95Ms, e.ttftMs);
      // Finished earlier than predicted: the work queued behind it moves up by the same slack.
      const slack = e.predictedDoneAt - (e.sentAt + e.ttftMs);
      if (slack > 0) v.busyUntilMs = Math.max(e.at, v.busyUntilMs - slack);
      return;
    }
    openOf(e.origin)?.delete(e.ticket);
    if (!v) return;
    v.inFlight = Math.max(0, v.inFlight - 1);
    v.inFlightTokens = Math.max(0, v.inFlightTokens - e.tokens);
    if (e.streamed && !e.firstTokenSeen) v.awaitingFirst = Math.max(0, v.awaitingFirst - 1);
    if (!e.firstTokenSeen && e.ok) {
      // Done without a first-token report (a non-streamed answer): its prefill ended by now at
      // the latest, so work predicted behind it moves up by whatever is still left of it.
      const slack = e.predictedDoneAt - e.at;
      if (slack > 0) v.busyUntilMs = Math.max(e.at, v.busyUntilMs - slack);
    } else if (!e.firstTokenSeen) {
      // Never started (error, cancel): its prefill no longer occupies the queue.
      v.busyUntilMs = Math.max(e.at, v.busyUntilMs - prefillMs(v, e.work));
    }
    if (e.ok && Number.isFinite(e.e2eMs)) {
      v.e2eMs = Number.isFinite(v.e2eMs) ? v.e2eMs + 0.1 * (e.e2eMs - v.e2eMs) : e.e2eMs;
    }
  }

  /** Measures the service time of a first token and teaches the rate (deterministic: event fields and earlier events only). */
  function learnRate(v: EndpointView, e: FirstTokenEvent): void {
    const firstAt = e.sentAt + e.ttftMs;
    const prev = lastFirstAt.get(e.key) ?? Number.NEGATIVE_INFINITY;
    if (firstAt > prev && !e.censored) lastFirstAt.set(e.key, firstAt);
    const behind = prev > e.sentAt; // our previous first token came after this was sent: it queued behind ours
    const serviceMs = behind ? firstAt - prev : e.ttftMs;
    rates.observe(v.state.gpuType, v.endpointId, {
      work: e.work,
      serviceMs,
      ttftMs: e.ttftMs,
      // A withdrawal's lower bound counts like a gap: less than a clean measurement.
      confidence: e.queued ? 0 : behind || e.censored ? GAP_CONFIDENCE : IDLE_CONFIDENCE,
      runtimeRate: e.runtimeRate,
    });
  }

  function openOf(origin: number): Map<number, OpenRequest> | undefined {
    if (!open) return undefined;
    let m = open.get(origin);
    if (!m) open.set(origin, (m = new Map<number, OpenRequest>()));
    return m;
  }

  function finishedEvent(
    origin: number,
    ticket: number,
    r: OpenRequest,
    outcome: { ok: boolean; e2eMs?: number },
  ): FinishedEvent {
    return {
      kind: 'finished',
      origin,
      ticket,
      key: r.key,
      at: ctx.now(),
      tokens: r.tokens,
      work: r.work,
      predictedDoneAt: r.predictedDoneAt,
      firstTokenSeen: r.firstTokenSeen,
      streamed: r.streamed,
      relayed: r.relayed,
      ok: outcome.ok,
      e2eMs: outcome.e2eMs ?? Number.NaN,
    };
  }

  function firstEvent(t: RouteTicket, ttftMs: number, censored: boolean): FirstTokenEvent {
    return {
      kind: 'first',
      origin: t.origin,
      ticket: t.id,
      key: t.key,
      at: ctx.now(),
      work: t.work,
      sentAt: t.sentAt,
      predictedWaitMs: t.predictedWaitMs,
      predictedDoneAt: t.predictedDoneAt,
      ttftMs,
      queued: t.queued,
      runtimeRate: runtimeRateOf(t.view.state),
      censored,
      streamed: t.streamed,
      relayed: t.relayed,
    };
  }

  const tracker: OutcomeTracker = {
    routed(view, req, predictedWaitMs, relayed = false) {
      const at = ctx.now();
      const prompt = req.promptTokens ?? 0;
      const uncached = uncachedTokens(view, prompt, ctx);
      const tokens = prompt + (req.maxTokens ?? 0);
      const ticket: RouteTicket = {
        origin: journal.origin,
        id: nextId++,
        key: viewKey(view.endpointId, view.state.model),
        view,
        tokens,
        uncached,
        work: prefillWork(uncached, prompt, ctx.attentionKneeTokens),
        sentAt: at,
        predictedWaitMs,
        queued: sendsIntoFullEndpoint(view, tokens),
        streamed: req.stream === true,
        relayed,
        predictedDoneAt: at,
        firstTokenSeen: false,
        done: false,
      };
      ownPending.set(ticket.id, ticket);
      journal.append({
        kind: 'routed',
        origin: ticket.origin,
        ticket: ticket.id,
        key: ticket.key,
        at,
        tokens: ticket.tokens,
        promptTokens: prompt,
        work: ticket.work,
        hashes: req.blockHashes ?? [],
        streamed: ticket.streamed,
        relayed,
      });
      return ticket;
    },
    firstToken(t, ttftMs) {
      if (t.firstTokenSeen || t.done) return;
      t.firstTokenSeen = true;
      journal.append(firstEvent(t, ttftMs, false));
    },
    withdrawn(t, elapsedMs) {
      if (t.firstTokenSeen || t.done) return;
      journal.append(firstEvent(t, elapsedMs, true));
    },
    finished(t, outcome) {
      if (t.done) return;
      if (!t.firstTokenSeen && outcome.ok && outcome.ttftMs !== undefined)
        tracker.firstToken(t, outcome.ttftMs);
      t.done = true;
      journal.append(finishedEvent(t.origin, t.id, t, outcome));
    },
    apply,
    tap(listener) {
      taps.add(listener);
      return () => taps.delete(listener);
    },
    reset() {
      for (const v of fleet.all()) {
        v.inFlight = 0;
        v.inFlightTokens = 0;
        v.busyUntilMs = 0;
        v.awaitingFirst = 0;
      }
      open?.clear();
      lastFirstAt.clear();
    },
    abandon(origin) {
      const requests = open?.get(origin);
      if (!requests) return;
      open!.delete(origin);
      for (const [ticket, r] of requests) journal.append(finishedEvent(origin, ticket, r, { ok: false }));
    },
  };
  return tracker;
}
