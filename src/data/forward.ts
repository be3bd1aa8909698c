/**
 * Forwards one inference request to the best endpoint and relays the answer.
 *
 * Nothing is written to the client until the upstream's first body byte arrives, so any failure
 * before that point (refused connection, 5xx, reset, timeout) is retried on another endpoint
 * that speaks the request's protocol. After the first byte the response is committed: a failure
 * ends an SSE stream with the protocol's own error event (never a hang) and cuts any other body.
 * A client that goes away aborts the upstream request at once, which the runtime sees as a
 * cancellation. A request whose first token is late may be hedged (`hedge-race.ts`): a second copy
 * on the next-best endpoint, the first to answer relayed, the other cancelled. Every attempt's
 * lease ends exactly once, whatever happens.
 */
import { MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';
import type { PickHints } from './request-hints.ts';
import type { RequestMetrics } from './request-metrics.ts';
import type { Route, RouteDecider } from './route-decider.ts';
import type { ClientProtocol } from './protocols/index.ts';
import type { ClientExchange } from './client-exchange.ts';
import type { HedgeClassPolicy, Hedging } from './hedge.ts';
import type { NodeAttempts } from './node-attempts.ts';
import { raceOn } from './hedge-race.ts';
import type { Upstreams } from './upstreams.ts';

export interface ForwardDeps {
  decider: RouteDecider;
  upstreams: Upstreams;
  metrics: RequestMetrics;
  retries: number;
  logger: Logger;
  /** True while the node drains: answers close their connection. */
  draining(): boolean;
  /** Request hedging (`router.hedging`); absent: no request is hedged. */
  hedging?: Hedging;
  /** Attempts in flight by node, for forced drains to cut; absent: none are tracked. */
  attempts?: NodeAttempts;
}

export interface ForwardRequest {
  requestId: string;
  model: string;
  /** The client's protocol: which endpoints qualify, and how a mid-stream error looks. */
  protocol: ClientProtocol;
  /** Path to call on the endpoint, e.g. `/v1/chat/completions`. */
  path: string;
  /** Whether the protocol says this request's answer is an SSE stream. */
  stream: boolean;
  body: Buffer;
  /** What scoring knows of the request (prompt size, prefix blocks, SLO), read once from the body. */
  hints: PickHints;
  /** Hedging of the request's class as an SLO policy set it for its model; absent: `router.hedging`'s. */
  hedge?: HedgeClassPolicy;
  headers: Record<string, string>;
  startedAt: number;
}

/**
 * Forwards `request`, retrying before the first byte; writes the whole response to the exchange's
 * client. Throws the `MeshError` to answer with when nothing was committed (no endpoint, every
 * attempt failed, the client left, the node stopped it); once committed, it resolves whatever
 * happens.
 */
export async function forwardInference(
  deps: ForwardDeps,
  request: ForwardRequest,
  exchange: ClientExchange,
): Promise<void> {
  let tried: Set<string> | undefined;
  let lastError: MeshError | undefined;
  for (let n = 0; n <= deps.retries; n++) {
    const route = await pickTarget(deps, request, tried, lastError);
    if (exchange.stopped || exchange.clientGone) {
      route.lease.end(false);
      throw exchange.stopped ?? new MeshError('cancelled', 'the client closed the connection');
    }
    if (n > 0) deps.metrics.retried(request.model);
    exchange.closeConnection = deps.draining();
    const { result, endpoints } = await raceOn(deps, request, route, exchange, tried, n);
    if (result.committed) return;
    if (exchange.clientGone || exchange.stopped) throw result.error;
    lastError = result.error;
    tried ??= new Set();
    for (const id of endpoints) tried.add(id);
    deps.logger.warn(
      {
        requestId: request.requestId,
        endpoint: route.endpointId,
        attempt: n,
        code: lastError.code,
        err: lastError.message,
      },
      'upstream failed before first byte',
    );
  }
  throw lastError ?? new MeshError('upstream_error', 'no upstream attempt was made');
}

async function pickTarget(
  deps: ForwardDeps,
  request: ForwardRequest,
  tried: Set<string> | undefined,
  lastError: MeshError | undefined,
): Promise<Route> {
  try {
    return await deps.decider.pick(request.model, tried, request.protocol.speaks, request.hints);
  } catch (err) {
    // Out of endpoints to retry on: the user needs the upstream failure, not "no endpoint".
    throw lastError ?? err;
  }
}
