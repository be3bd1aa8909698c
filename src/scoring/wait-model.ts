/**
 * The one prediction of queueing delay, shared by the work-left scorer, admission and the
 * decision's `predictedWaitMs`: how long a new request would wait at an endpoint before its own
 * prefill starts.
 *
 *   wait = max(0, busyUntil − now)                         prefill work the router already sent
 *          or, once that has passed with streamed requests still awaiting their first token,
 *          now − busyUntil − TTFT p95                      as far behind again as it already is
 *        + max(0, inFlight − maxBatch + 1) / maxBatch × e2e  requests beyond the batch wait for slots
 *                                                       (inFlight: this router's and the others' relayed)
 *   and at least  reportedWaiting × 1000 tokens / rate     the runtime's own queue (others' traffic),
 *                 − time since that report arrived          less what it has served since
 *   + overhead                                             the GPU type's fixed time per prefill
 *
 * A request's own prefill is `prefillWork(uncached, prompt, knee) × 1000 / rate` ms after that;
 * `rate` and `overhead` are the two parameters service-rates.ts learns (time = overhead + work/rate).
 */
import type { EndpointView, ScoringContext } from './types.ts';

/** Latency assumed for a batch slot to free when nothing was observed yet (ms). */
const DEFAULT_SLOT_MS = 2000;

export function predictWaitMs(v: EndpointView, ctx: ScoringContext): number {
  const ahead = v.busyUntilMs - ctx.now();
  // Past its predicted drain with first tokens still missing, the endpoint is running slow (a
  // throttled or stalled GPU): expect it to stay behind as long again, rather than look idle.
  // Lateness within the endpoint's own TTFT p95 is ordinary prediction error, not a slowdown.
  const grace = Number.isFinite(v.observedP95Ms) ? v.observedP95Ms : 0;
  const busy = ahead > 0 ? ahead : v.awaitingFirst > 0 ? Math.max(0, -ahead - grace) : 0;
  let overflow = 0;
  const inFlight = v.inFlight;
  if (v.maxBatch > 0 && inFlight >= v.maxBatch) {
    const slotMs = Number.isFinite(v.e2eMs) ? v.e2eMs : DEFAULT_SLOT_MS;
    overflow = ((inFlight - v.maxBatch + 1) / v.maxBatch) * slotMs;
  }
  const rate = ctx.serviceRate(v); // also fills `v.rateCell`, where the fixed overhead is read
  // The runtime's queue as last reported, less what it has served since the report arrived: a
  // queue seen a second ago has mostly drained, and keeping it whole sends every request to
  // whichever endpoint looked empty at the last scrape (herding on stale state).
  const age = ctx.now() - v.stateAt;
  const reported = Math.max(0, ((v.state.queueDepth ?? 0) * 1000 * 1000) / rate - (age > 0 ? age : 0));
  return Math.max(busy + overflow, reported) + prefillOverheadMs(v);
}

/** The fixed time (ms) one prefill takes on `v`'s GPU beside its work (0 until learned). */
export function prefillOverheadMs(v: EndpointView): number {
  return v.rateCell?.overheadMs ?? 0;
}

/** Prompt tokens the endpoint must still compute for `promptTokens`, given the router's prefix match. */
export function uncachedTokens(v: EndpointView, promptTokens: number, ctx: ScoringContext): number {
  const cached = v.prefixEpoch === ctx.epoch() ? v.prefixMatch * ctx.blockTokens : 0;
  return Math.max(0, promptTokens - cached);
}

/**
 * Prefill work of a prompt in "linear tokens": the `uncached` tokens computed, each also attending
 * to every earlier token of the prompt (causal attention, quadratic in length). On average a new
 * token attends to `prompt − uncached/2` keys; `kneeTokens` is the context length at which one
 * token's attention costs as much as its linear layers (model shape and GPU efficiency). So
 * `work × 1000 / rate` is the prefill in ms, and a 120k-token prompt costs what it really does,
 * several times its token count, not one.
 */
export function prefillWork(uncached: number, promptTokens: number, kneeTokens: number): number {
  return uncached * (1 + Math.max(0, promptTokens - uncached / 2) / kneeTokens);
}
