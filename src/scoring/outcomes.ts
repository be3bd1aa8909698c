/**
 * What the router learns from its own traffic, applied at once: a sent request counts against its
 * endpoint (in-flight, expected KV tokens, predicted prefill queue, prefix index) until it ends;
 * its first token teaches the GPU type's service rate and corrects the queue estimate; its end
 * feeds the endpoint's latency estimates.
 */
import type { PrefixIndex } from './prefix-index.ts';
import type { ServiceRates } from './service-rates.ts';
import type { EndpointView, ScoringContext, ScoringRequest } from './types.ts';
import { prefillWork, uncachedTokens } from './wait-model.ts';

/** One routed request, from send to end. */
export interface RouteTicket {
  readonly view: EndpointView;
  readonly tokens: number;
  readonly uncached: number;
  /** Prefill work in linear tokens (`prefillWork`): what the queue holds for it, what the rate learns from. */
  readonly work: number;
  readonly sentAt: number;
  readonly predictedWaitMs: number;
  /** Predicted time the request's prefill completes (engine clock ms). */
  readonly predictedDoneAt: number;
  firstTokenSeen: boolean;
  done: boolean;
}

export interface OutcomeTracker {
  routed(view: EndpointView, req: ScoringRequest, predictedWaitMs: number): RouteTicket;
  firstToken(ticket: RouteTicket, ttftMs: number): void;
  finished(ticket: RouteTicket, outcome: { ok: boolean; e2eMs?: number; ttftMs?: number }): void;
}

/** Streaming p95: moves up by 0.95·step on a sample above, down by 0.05·step below. */
function updateP95(cur: number, x: number): number {
  if (!Number.isFinite(cur)) return x;
  const step = Math.max(1, cur * 0.05);
  return x > cur ? cur + 0.95 * step : cur - 0.05 * step;
}

export function createOutcomeTracker(
  ctx: ScoringContext,
  rates: ServiceRates,
  prefixIndex: PrefixIndex,
): OutcomeTracker {
  const prefillMs = (v: EndpointView, tokens: number) => (tokens * 1000) / ctx.serviceRate(v);
  return {
    routed(view, req, predictedWaitMs) {
      const now = ctx.now();
      const prompt = req.promptTokens ?? 0;
      const uncached = uncachedTokens(view, prompt, ctx);
      const work = prefillWork(uncached, prompt, ctx.attentionKneeTokens);
      const tokens = prompt + (req.maxTokens ?? 0);
      view.inFlight++;
      view.inFlightTokens += tokens;
      view.busyUntilMs = Math.max(now, view.busyUntilMs) + prefillMs(view, work);
      if (req.blockHashes && req.blockHashes.length > 0) prefixIndex.record(view, req.blockHashes);
      return {
        view,
        tokens,
        uncached,
        work,
        sentAt: now,
        predictedWaitMs,
        predictedDoneAt: view.busyUntilMs,
        firstTokenSeen: false,
        done: false,
      };
    },
    firstToken(t, ttftMs) {
      if (t.firstTokenSeen || t.done) return;
      t.firstTokenSeen = true;
      const v = t.view;
      rates.observe(v.state.gpuType, t.work, ttftMs - t.predictedWaitMs);
      v.observedP95Ms = updateP95(v.observedP95Ms, ttftMs);
      // Finished earlier than predicted: the work queued behind it moves up by the same slack.
      const slack = t.predictedDoneAt - (t.sentAt + ttftMs);
      if (slack > 0) v.busyUntilMs = Math.max(ctx.now(), v.busyUntilMs - slack);
    },
    finished(t, outcome) {
      if (t.done) return;
      if (!t.firstTokenSeen && outcome.ok && outcome.ttftMs !== undefined) this.firstToken(t, outcome.ttftMs);
      t.done = true;
      const v = t.view;
      v.inFlight = Math.max(0, v.inFlight - 1);
      v.inFlightTokens = Math.max(0, v.inFlightTokens - t.tokens);
      if (!t.firstTokenSeen && outcome.ok) {
        // Done without a first-token report (a non-streamed answer): its prefill ended by now at
        // the latest, so work predicted behind it moves up by whatever is still left of it.
        const slack = t.predictedDoneAt - ctx.now();
        if (slack > 0) v.busyUntilMs = Math.max(ctx.now(), v.busyUntilMs - slack);
      } else if (!t.firstTokenSeen) {
        // Never started (error, cancel): its prefill no longer occupies the queue.
        v.busyUntilMs = Math.max(ctx.now(), v.busyUntilMs - prefillMs(v, t.work));
      }
      if (outcome.ok && outcome.e2eMs !== undefined) {
        v.e2eMs = Number.isFinite(v.e2eMs) ? v.e2eMs + 0.1 * (outcome.e2eMs - v.e2eMs) : outcome.e2eMs;
      }
    },
  };
}
