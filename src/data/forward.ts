/**
 * Forwards one inference request to the best endpoint and relays the answer.
 *
 * Nothing is written to the client until the upstream's first body byte arrives, so any failure
 * before that point (refused connection, 5xx, reset, timeout) is retried on another endpoint
 * that speaks the request's protocol. After the first byte the response is committed: a failure
 * ends an SSE stream with the protocol's own error event (never a hang) and cuts any other body.
 * A client that goes away aborts the upstream request at once, which the runtime sees as a
 * cancellation. Every request's lease ends exactly once, whatever happens.
 */
import { MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';
import type { PickHints } from './request-hints.ts';
import type { RequestMetrics } from './request-metrics.ts';
import type { Route, RouteDecider } from './route-decider.ts';
import type { ClientProtocol } from './protocols/index.ts';
import type { ClientExchange } from './client-exchange.ts';
import { attempt, type AttemptResult } from './upstream-attempt.ts';
import type { Upstreams } from './upstreams.ts';

export interface ForwardDeps {
  decider: RouteDecider;
  upstreams: Upstreams;
  metrics: RequestMetrics;
  retries: number;
  logger: Logger;
  /** True while the node drains: answers close their connection. */
  draining(): boolean;
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
    const result = await attemptOn(deps, request, route, exchange);
    if (result.committed) return;
    if (exchange.clientGone || exchange.stopped) throw result.error;
    lastError = result.error;
    (tried ??= new Set()).add(route.endpointId);
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

async function attemptOn(
  deps: ForwardDeps,
  request: ForwardRequest,
  route: Route,
  exchange: ClientExchange,
): Promise<AttemptResult> {
  const metrics = deps.metrics.route(request.model, route.endpointId);
  let result: AttemptResult;
  try {
    result = await attempt(exchange, {
      endpointId: route.endpointId,
      pool: deps.upstreams.pool(route.url),
      path: deps.upstreams.path(route.url, request.path),
      headers: request.headers,
      body: request.body,
      protocol: request.protocol,
      stream: request.stream,
      onCommit(status, sse) {
        metrics.ttft.observe((performance.now() - request.startedAt) / 1000);
        // A stream's first chunk follows the first token; a whole JSON answer says nothing of prefill.
        if (sse && status < 300) route.lease.firstToken();
      },
    });
  } catch (err) {
    // dispatch threw synchronously (a closed pool while stopping): nothing was sent.
    result = { committed: false, error: MeshError.from(err, 'upstream_error') };
  }
  route.lease.end(result.committed && result.error === undefined && result.status < 400);
  if (result.committed) {
    const { error } = result;
    const seconds = (performance.now() - request.startedAt) / 1000;
    if (error === undefined) metrics.finished(result.status, 'ok', seconds);
    else {
      metrics.finished(error.httpStatus, error.code, seconds);
      if (error.code !== 'cancelled') {
        deps.logger.warn(
          { requestId: request.requestId, endpoint: route.endpointId, code: error.code, err: error.message },
          'upstream failed mid-response',
        );
      }
    }
  }
  return result;
}
