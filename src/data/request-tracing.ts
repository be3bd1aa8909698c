/**
 * The router's request spans: `router.request` (a server span, child of the client's
 * `traceparent` when it sends one) and one `router.upstream` client span per attempt — the first,
 * each retry and each hedge its own, marked — whose context is the `traceparent` the runtime
 * receives, so a runtime that traces (vLLM with OTLP) joins the same trace. With tracing off every
 * function here returns at its first check and the client's `traceparent` is forwarded as it came.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, trace, context } from '@opentelemetry/api';
import type { MeshError } from '../core/errors.ts';
import type { Protocol } from '../core/types.ts';
import { ATTR, EVENT, SPAN } from '../observability/tracing/attributes.ts';
import {
  extractContext,
  failSpan,
  injectSpan,
  recordingSpan,
  startSpan,
  tracingOn,
  type Context,
  type Span,
} from '../observability/tracing/tracer.ts';
import { createTokenCounter } from './decision-recorder.ts';
import type { PickHints } from './request-hints.ts';
import type { Route } from './route-decider.ts';
import type { AttemptResult } from './upstream-attempt.ts';

/** A request's server span and the context it continues (the client's, or a new trace). */
export interface RequestTrace {
  span: Span;
  parent: Context;
}

/** Starts `router.request` for an inference request; undefined while tracing is off. */
export function startRequestTrace(
  req: IncomingMessage,
  path: string,
  requestId: string,
  protocol: Protocol,
  worker: number,
): RequestTrace | undefined {
  if (!tracingOn()) return undefined;
  const parent = extractContext(req.headers);
  const span = startSpan(SPAN.request, { kind: SpanKind.SERVER }, parent)!;
  if (span.isRecording()) {
    span.setAttributes({
      [ATTR.httpMethod]: req.method ?? 'POST',
      [ATTR.urlPath]: path,
      [ATTR.requestId]: requestId,
      [ATTR.protocol]: protocol,
      [ATTR.worker]: worker,
    });
  }
  return { span, parent };
}

/** What the router read of the request, on its span (when it records). */
export function describeRequest(model: string, hints: PickHints, tenant: string | undefined): void {
  const span = recordingSpan();
  if (!span) return;
  span.setAttributes({
    [ATTR.genAiModel]: model,
    [ATTR.stream]: hints.stream === true,
    ...(hints.promptTokens !== undefined ? { [ATTR.promptTokens]: hints.promptTokens } : {}),
    ...(hints.maxTokens !== undefined ? { [ATTR.genAiMaxTokens]: hints.maxTokens } : {}),
    ...(hints.sloClass ? { [ATTR.sloClass]: hints.sloClass } : {}),
    ...(tenant !== undefined ? { [ATTR.tenant]: tenant } : {}),
  });
}

/** Ends `router.request` with the status the client got; 5xx (and `error`s of that kind) mark it failed. */
export function endRequestTrace(trace: RequestTrace, res: ServerResponse, error?: MeshError): void {
  const { span } = trace;
  if (span.isRecording()) {
    const status = res.headersSent ? res.statusCode : error?.httpStatus;
    if (status !== undefined) span.setAttribute(ATTR.httpStatus, status);
    if (error) {
      span.setAttribute(ATTR.errorType, error.code);
      if (error.httpStatus >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
  }
  span.end();
}

/** Which attempt of a request this is. */
export interface AttemptMark {
  /** 0 for the first pick, n for the n-th retry (a hedge has its primary's number). */
  attempt: number;
  hedge: boolean;
  /** True once a hedge race's other attempt committed first and this one was cancelled. */
  lost?: () => boolean;
}

/** One attempt's `router.upstream` span and the headers that carry its context to the runtime. */
export interface UpstreamTrace {
  headers: Record<string, string>;
  /** Counts output tokens from the relayed bytes (only when the span records). */
  onData?: (chunk: Buffer) => void;
  committed(status: number, sse: boolean, requestStartedAt: number, sentAt: number): void;
  ended(result: AttemptResult): void;
}

/** Starts an attempt's span under the active request span; undefined while tracing is off. */
export function startUpstreamTrace(
  headers: Readonly<Record<string, string>>,
  route: Route,
  path: string,
  mark: AttemptMark,
): UpstreamTrace | undefined {
  if (!tracingOn()) return undefined;
  const request = trace.getSpan(context.active());
  const span = startSpan(SPAN.upstream, { kind: SpanKind.CLIENT })!;
  // The runtime's parent is this attempt, not the client: the client's headers are replaced.
  const out: Record<string, string> = { ...headers };
  delete out.traceparent;
  delete out.tracestate;
  injectSpan(span, out);
  if (!span.isRecording()) return { headers: out, committed: () => undefined, ended: () => span.end() };
  const url = new URL(path, route.url);
  span.setAttributes({
    [ATTR.httpMethod]: 'POST',
    [ATTR.urlFull]: url.href,
    [ATTR.serverAddress]: url.hostname,
    [ATTR.serverPort]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    [ATTR.endpoint]: route.endpointId,
    [ATTR.node]: route.node,
    [ATTR.attempt]: mark.attempt,
    [ATTR.retry]: mark.attempt > 0,
    [ATTR.hedge]: mark.hedge,
    ...(Number.isFinite(route.predictedTtftMs)
      ? { [ATTR.predictedTtftMs]: Math.round(route.predictedTtftMs) }
      : {}),
  });
  const counter = createTokenCounter();
  return {
    headers: out,
    onData: (chunk) => counter.add(chunk),
    committed(status, sse, requestStartedAt, sentAt) {
      const now = performance.now();
      const ttftMs = Math.round(now - requestStartedAt);
      span.setAttributes({
        [ATTR.httpStatus]: status,
        [ATTR.ttftMs]: ttftMs,
        [ATTR.firstByteMs]: Math.round(now - sentAt),
      });
      span.addEvent(sse ? EVENT.firstToken : EVENT.firstByte, { [ATTR.ttftMs]: ttftMs });
      if (request?.isRecording())
        request.setAttributes({ [ATTR.ttftMs]: ttftMs, [ATTR.endpoint]: route.endpointId });
    },
    ended(result) {
      const outcome = outcomeOf(result, mark.lost?.() === true);
      span.setAttribute(ATTR.outcome, outcome);
      if (result.committed) {
        const tokens = counter.tokens();
        if (tokens !== undefined) {
          span.setAttribute(ATTR.genAiOutputTokens, tokens);
          if (request?.isRecording()) request.setAttribute(ATTR.genAiOutputTokens, tokens);
        }
      }
      if (outcome === 'ok') span.setStatus({ code: SpanStatusCode.OK });
      else if (outcome === 'failed') {
        if (result.error) failSpan(span, result.error);
        else if (result.committed) {
          span.setAttribute(ATTR.errorType, String(result.status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        // Cut after the answer began: the client saw a broken answer, so the request failed too.
        if (result.committed && result.error && request) failSpan(request, result.error);
      } else if (result.error) span.setAttribute(ATTR.errorType, result.error.code);
      span.end();
    },
  };
}

/** `ok`, `failed`, `cancelled` (the client left, the node stopped it) or `lost` (a hedge race's loser). */
function outcomeOf(result: AttemptResult, lost: boolean): string {
  if (result.committed) {
    if (result.error) return result.error.code === 'cancelled' ? 'cancelled' : 'failed';
    return result.status < 400 ? 'ok' : 'failed';
  }
  if (lost) return 'lost';
  return result.error.code === 'cancelled' ? 'cancelled' : 'failed';
}

/** Both chunk observers, either, or none. */
export function bothObservers(
  a: ((chunk: Buffer) => void) | undefined,
  b: ((chunk: Buffer) => void) | undefined,
): ((chunk: Buffer) => void) | undefined {
  if (a && b)
    return (chunk) => {
      a(chunk);
      b(chunk);
    };
  return a ?? b;
}
