/**
 * Control and state API calls as server spans (`<service>/<method>`, the gRPC convention), each a
 * child of the caller's `traceparent` when it sends one: a Connect interceptor, installed outermost
 * among the API port's own (outside authentication, so refused calls show too). A streaming call's
 * span covers its set-up only: a watch may stay open for days, and a span is exported when it ends.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { MeshError } from '../../core/errors.ts';
import { ATTR } from './attributes.ts';
import { extractContext, runInSpan, startSpan, tracingOn, type Span } from './tracer.ts';

/** Traces every call while this thread's tracing is on; passes calls straight through otherwise. */
export function createTracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!tracingOn()) return next(req);
    const traceparent = req.header.get('traceparent');
    const tracestate = req.header.get('tracestate');
    const parent = extractContext({
      ...(traceparent !== null ? { traceparent } : {}),
      ...(tracestate !== null ? { tracestate } : {}),
    });
    const service = req.service.typeName;
    const method = req.method.name;
    const span = startSpan(`${service}/${method}`, { kind: SpanKind.SERVER }, parent)!;
    if (span.isRecording()) {
      const grpc = req.header.get('content-type')?.startsWith('application/grpc') === true;
      span.setAttributes({
        [ATTR.rpcSystem]: grpc ? 'grpc' : 'connect_rpc',
        [ATTR.rpcService]: service,
        [ATTR.rpcMethod]: method,
        [ATTR.rpcStream]: req.stream,
      });
    }
    try {
      const res = await runInSpan(span, () => next(req), parent);
      span.setAttribute(ATTR.rpcStatus, 'OK');
      span.setStatus({ code: SpanStatusCode.OK });
      return res;
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  };
}

/** The call's error on its span: a Connect code as Connect names it, else the mesh code. */
function failed(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  if (err instanceof ConnectError) {
    const code = Code[err.code];
    span.setAttributes({ [ATTR.rpcStatus]: code, [ATTR.errorType]: code });
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.rawMessage });
    return;
  }
  const error = MeshError.from(err);
  span.setAttributes({ [ATTR.rpcStatus]: error.code, [ATTR.errorType]: error.code });
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}
