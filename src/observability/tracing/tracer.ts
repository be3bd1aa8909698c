/**
 * What instrumented code uses of tracing, on the OpenTelemetry API alone (the SDK loads only when
 * tracing is on: `provider.ts`). Off — the default — every helper returns at its first check, so a
 * request builds no span object and computes no attribute: callers test `tracingOn()` (a module
 * flag) or take the `Span | undefined` these helpers return. State is per thread, as the API's
 * globals are: each router worker thread turns its own tracing on.
 */
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { MeshError } from '../../core/errors.ts';
import { ATTR } from './attributes.ts';

export type { Context, Span } from '@opentelemetry/api';

/** Instrumentation scope of every span the mesh writes. */
export const TRACER_NAME = 'infermesh';

let tracer: Tracer | undefined;

/** Whether this thread traces: one load, the only cost of instrumentation while tracing is off. */
export function tracingOn(): boolean {
  return tracer !== undefined;
}

/** Called by `provider.ts` as this thread's provider starts (a tracer) and stops (undefined). */
export function setMeshTracer(next: Tracer | undefined): void {
  tracer = next;
}

/** Starts a span under `parent` (default: the active context); undefined while tracing is off. */
export function startSpan(name: string, options?: SpanOptions, parent?: Context): Span | undefined {
  return tracer?.startSpan(name, options, parent ?? context.active());
}

/** The active span if it records (its trace is sampled): only then are attributes worth computing. */
export function recordingSpan(): Span | undefined {
  if (!tracer) return undefined;
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span : undefined;
}

/** Runs `fn` with `span` active (under `parent`, default the active context), so children and logs see it. */
export function runInSpan<T>(span: Span, fn: () => T, parent?: Context): T {
  return context.with(trace.setSpan(parent ?? context.active(), span), fn);
}

/** The context an incoming request's W3C `traceparent`/`tracestate` headers name (root when absent). */
export function extractContext(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

/** Writes `span`'s context into outgoing `headers` as W3C `traceparent` (and `tracestate`). */
export function injectSpan(span: Span, headers: Record<string, string>): void {
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
}

/** Marks `span` failed with `err`'s mesh code (`error.type`) and message; does not end it. */
export function failSpan(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  const error = MeshError.from(err);
  span.setAttribute(ATTR.errorType, error.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/** Marks `span` successful (status OK), unless it was already marked failed. */
export function okSpan(span: Span): void {
  span.setStatus({ code: SpanStatusCode.OK });
}

/** The mixin's answer outside a span: the same object every time, so a log line allocates nothing. */
export const NO_TRACE_FIELDS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The `trace_id`, `span_id` and `trace_flags` of the active span, for a log line written inside
 * one (pino's `mixin`); `NO_TRACE_FIELDS` otherwise.
 */
export function logTraceFields(): Readonly<Record<string, string>> {
  if (!tracer) return NO_TRACE_FIELDS;
  const ctx = trace.getSpan(context.active())?.spanContext();
  if (!ctx || !isSpanContextValid(ctx)) return NO_TRACE_FIELDS;
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    trace_flags: ctx.traceFlags.toString(16).padStart(2, '0'),
  };
}
