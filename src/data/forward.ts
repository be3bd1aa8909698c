/**
 * Forwards one inference request to the best endpoint and relays the answer.
 *
 * Nothing is written to the client until the upstream's first body byte arrives, so any failure
 * before that point (refused connection, 5xx, reset, timeout) is retried on another endpoint
 * that speaks the request's protocol. After the first byte the response is committed: a failure
 * ends an SSE stream with the protocol's own error event (never a hang) and cuts any other body.
 * A client that goes away aborts the upstream request at once, which the runtime sees as a
 * cancellation.
 */
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Dispatcher } from 'undici';
import { MeshError } from '../core/errors.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/log.ts';
import type { EndpointSelector, Route } from './endpoint-selector.ts';
import type { PickHints } from './request-hints.ts';
import type { ClientProtocol } from './protocols/index.ts';
import type { Upstreams } from './upstreams.ts';

export interface ForwardDeps {
  selector: EndpointSelector;
  upstreams: Upstreams;
  metrics: MeshMetrics;
  retries: number;
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
  log: Logger;
}

const RELAYED_RESPONSE_HEADERS = ['content-type', 'content-length', 'cache-control'];

/** Forwards `request`, retrying before the first byte; writes the whole response to `res`. */
export async function forwardInference(
  deps: ForwardDeps,
  request: ForwardRequest,
  res: ServerResponse,
): Promise<void> {
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort(new MeshError('cancelled', 'client closed the connection'));
  };
  res.once('close', onClose);
  const tried = new Set<string>();
  let lastError: MeshError | undefined;
  try {
    for (let attempt = 0; attempt <= deps.retries; attempt++) {
      const route = pickTarget(deps, request, tried, lastError);
      const target = route.state;
      tried.add(target.endpointId);
      if (attempt > 0) deps.metrics.retries.inc({ model: request.model });
      const outcome = await attemptOn(deps, request, route, res, abort.signal);
      if (outcome.done) return;
      if (abort.signal.aborted) {
        request.log.info({ endpoint: target.endpointId }, 'client went away; upstream request cancelled');
        return;
      }
      lastError = outcome.error;
      request.log.warn(
        { endpoint: target.endpointId, attempt, code: lastError.code, err: lastError.message },
        'upstream failed before first byte',
      );
    }
    throw lastError ?? new MeshError('upstream_error', 'no upstream attempt was made');
  } finally {
    res.off('close', onClose);
  }
}

function pickTarget(
  deps: ForwardDeps,
  request: ForwardRequest,
  tried: Set<string>,
  lastError?: MeshError,
): Route {
  try {
    return deps.selector.pick(request.model, tried, request.protocol.speaks, request.hints);
  } catch (err) {
    // Out of endpoints to retry on: the user needs the upstream failure, not "no endpoint".
    if (lastError) throw lastError;
    throw err;
  }
}

type AttemptOutcome = { done: true } | { done: false; error: MeshError };

async function attemptOn(
  deps: ForwardDeps,
  request: ForwardRequest,
  { state: target, lease }: Route,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<AttemptOutcome> {
  const endpoint = target.endpointId;
  deps.metrics.inFlight.inc({ endpoint });
  let status = 0;
  let ok = false;
  let relayed = false;
  try {
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await deps.upstreams.pool(target.endpointUrl).request({
        method: 'POST',
        path: joinPath(target.endpointUrl, request.path),
        headers: { ...request.headers, 'content-length': String(request.body.length) },
        body: request.body,
        signal,
      });
    } catch (err) {
      return { done: false, error: upstreamError(err, endpoint) };
    }
    status = upstream.statusCode;
    if (status >= 500) {
      const text = await upstream.body.text().catch(() => '');
      return {
        done: false,
        error: new MeshError(
          'upstream_error',
          `endpoint ${endpoint} answered ${status}: ${text.slice(0, 200)}`,
        ),
      };
    }
    const chunks = upstream.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let first: IteratorResult<Buffer>;
    try {
      first = await chunks.next();
    } catch (err) {
      upstream.body.destroy();
      return { done: false, error: upstreamError(err, endpoint) };
    }

    res.writeHead(status, responseHeaders(upstream.headers, request.requestId, endpoint));
    deps.metrics.ttft.observe(
      { model: request.model, endpoint },
      (performance.now() - request.startedAt) / 1000,
    );
    // The protocol expects a stream and the endpoint confirms it: a JSON error answer stays JSON.
    const sse =
      request.stream && String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream');
    // A stream's first chunk follows the first token; a whole JSON answer says nothing of prefill.
    if (sse && status < 300) lease.firstToken();
    relayed = await relay(first, chunks, res, sse, request, endpoint);
    ok = relayed && status < 400;
    return { done: true };
  } finally {
    lease.end(ok);
    deps.metrics.inFlight.dec({ endpoint });
    if (status > 0 && status < 500) {
      // 499 (nginx's "client closed request") when the client left before the end.
      const label = relayed ? String(status) : '499';
      deps.metrics.requests.inc({ model: request.model, endpoint, status: label });
      deps.metrics.e2e.observe(
        { model: request.model, endpoint },
        (performance.now() - request.startedAt) / 1000,
      );
    }
  }
}

/**
 * Streams the committed body with backpressure; a mid-stream failure ends it cleanly. True when
 * the whole upstream body reached the client.
 */
async function relay(
  first: IteratorResult<Buffer>,
  chunks: AsyncIterator<Buffer>,
  res: ServerResponse,
  sse: boolean,
  request: ForwardRequest,
  endpoint: string,
): Promise<boolean> {
  try {
    for (let next = first; !next.done; next = await chunks.next()) {
      if (res.destroyed) return false;
      if (!res.write(next.value)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
    res.end();
    return true;
  } catch (err) {
    await chunks.return?.().catch(() => undefined);
    if (res.destroyed) return false;
    const error = upstreamError(err, endpoint);
    request.log.warn({ endpoint, code: error.code, err: error.message }, 'upstream failed mid-response');
    if (sse) {
      const midStream = new MeshError('upstream_error', `upstream failed mid-stream: ${error.message}`);
      res.end(request.protocol.streamError(midStream));
    } else {
      res.destroy(error);
    }
    return false;
  }
}

function responseHeaders(upstream: Dispatcher.ResponseData['headers'], requestId: string, endpoint: string) {
  const headers: Record<string, string> = { 'x-request-id': requestId, 'x-infermesh-endpoint': endpoint };
  for (const name of RELAYED_RESPONSE_HEADERS) {
    const value = upstream[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

function upstreamError(err: unknown, endpoint: string): MeshError {
  if (err instanceof MeshError) return err;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new MeshError(
      'upstream_timeout',
      `endpoint ${endpoint} timed out: ${message}`,
      {},
      { cause: err },
    );
  }
  return new MeshError('upstream_error', `endpoint ${endpoint} failed: ${message}`, {}, { cause: err });
}

/** Keeps any path prefix of the endpoint's base URL (`http://h/prefix` + `/v1/...`). */
function joinPath(baseUrl: string, path: string): string {
  const prefix = new URL(baseUrl).pathname.replace(/\/+$/, '');
  return `${prefix}${path}`;
}
