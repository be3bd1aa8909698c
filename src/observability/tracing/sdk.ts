/**
 * The OpenTelemetry SDK as this thread's tracer provider: W3C trace-context propagation, async
 * context through AsyncLocalStorage, the configured sampler, and a batch span processor that
 * exports over OTLP/HTTP (protobuf or JSON). Loaded by `provider.ts` only when tracing is on, so a
 * node that does not trace never loads it.
 */
import { context, diag, DiagLogLevel, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import { MESH_VERSION } from '../../core/version.ts';
import type { Logger } from '../log.ts';
import { ATTR } from './attributes.ts';
import type { TracingSettings } from './settings.ts';
import { TRACER_NAME } from './tracer.ts';

/** The SDK's own complaints (a collector that refuses exports) reach the log at most this often. */
const DIAG_LOG_INTERVAL_MS = 10_000;

/** Who is tracing: the node, and the router worker thread when it is one. */
export interface TracingIdentity {
  nodeId: string;
  worker?: number;
}

/** A started provider: its tracer, and a shutdown that flushes what is queued. */
export interface SdkProvider {
  tracer: Tracer;
  /** Exports queued spans and stops; unregisters the API's globals so a later start can register. */
  shutdown(timeoutMs: number): Promise<void>;
}

/** Registers this thread's provider, propagator and context manager with the OpenTelemetry API. */
export function startSdkProvider(
  settings: TracingSettings,
  who: TracingIdentity,
  logger: Logger,
): SdkProvider {
  const log = logger.child({ component: 'tracing' });
  let lastDiag = -Infinity;
  const report = (message: string, ...args: unknown[]) => {
    const now = performance.now();
    if (now - lastDiag < DIAG_LOG_INTERVAL_MS) return;
    lastDiag = now;
    log.warn({ detail: args.map(String).join(' ') || undefined }, `opentelemetry: ${message}`);
  };
  const quiet = () => undefined;
  diag.setLogger(
    { error: report, warn: report, info: quiet, debug: quiet, verbose: quiet },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const options = { url: settings.url, headers: settings.headers, timeoutMillis: settings.exportTimeoutMs };
  const exporter =
    settings.protocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtoExporter(options);
  const resource = defaultResource().merge(
    resourceFromAttributes({
      ...settings.resourceAttributes,
      [ATTR_SERVICE_NAME]: settings.serviceName,
      [ATTR_SERVICE_VERSION]: MESH_VERSION,
      [ATTR_SERVICE_INSTANCE_ID]: who.nodeId,
      [ATTR.node]: who.nodeId,
      ...(who.worker !== undefined ? { [ATTR.worker]: who.worker } : {}),
    }),
  );
  const provider = new BasicTracerProvider({
    resource,
    sampler: samplerOf(settings),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer(TRACER_NAME, MESH_VERSION),
    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const flushed = await Promise.race([provider.shutdown().then(() => 'done' as const), deadline]).catch(
        (err: unknown) => {
          log.warn({ err }, 'tracing shutdown failed');
          return 'done' as const;
        },
      );
      clearTimeout(timer);
      if (flushed === 'timeout') log.warn({ timeoutMs }, 'spans not exported before the shutdown deadline');
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}

/** The configured sampler (`OTEL_TRACES_SAMPLER`'s names). */
function samplerOf(settings: TracingSettings): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(settings.samplerArg);
  switch (settings.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
