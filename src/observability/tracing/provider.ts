/**
 * Turns this thread's tracing on (when the settings say so) and off again. The SDK is imported
 * only here and only when tracing is on; off, nothing of it loads and `tracingOn()` stays false.
 * One provider per thread, as the OpenTelemetry API's globals are per thread: a second start in
 * the same thread (two in-process nodes in a test) shares the first's, and the last shutdown
 * flushes it, bounded by `shutdownTimeoutMs`.
 */
import type { TracingConfig } from '../../core/config-tracing.ts';
import type { Logger } from '../log.ts';
import type { SdkProvider, TracingIdentity } from './sdk.ts';
import { resolveTracingSettings, type Env, type TracingSettings } from './settings.ts';
import { setMeshTracer } from './tracer.ts';

/** A hold on this thread's tracing. */
export interface Tracing {
  settings: TracingSettings;
  /** Releases the hold; the last one exports what is queued (bounded) and turns tracing off. */
  shutdown(): Promise<void>;
}

interface Shared {
  holders: number;
  settings: TracingSettings;
  provider: Promise<SdkProvider>;
}

let shared: Shared | undefined;

/**
 * Starts tracing per `config` and the `OTEL_*` variables of `env`; undefined when that says off
 * (the default). Warnings about variables it ignores go to `logger`.
 */
export async function startTracing(
  config: TracingConfig,
  who: TracingIdentity,
  logger: Logger,
  env: Env = process.env,
): Promise<Tracing | undefined> {
  const { settings, warnings } = resolveTracingSettings(config, env);
  for (const warning of warnings) logger.warn(warning);
  if (!settings) return undefined;
  if (!shared) {
    // Set before the first await: a concurrent start in this thread joins this one.
    const provider = import('./sdk.ts').then((sdk) => sdk.startSdkProvider(settings, who, logger));
    shared = { holders: 0, settings, provider };
  }
  const current = shared;
  current.holders++;
  let started: SdkProvider;
  try {
    started = await current.provider;
  } catch (err) {
    current.holders--;
    if (shared === current) shared = undefined;
    throw err;
  }
  setMeshTracer(started.tracer);
  if (current.holders === 1)
    logger.info(
      { url: current.settings.url, protocol: current.settings.protocol, sampler: current.settings.sampler },
      'tracing on: OTLP/HTTP export',
    );
  let released = false;
  return {
    settings: current.settings,
    async shutdown() {
      if (released) return;
      released = true;
      if (--current.holders > 0) return;
      if (shared === current) shared = undefined;
      // No new spans from here: what is queued is all that gets exported.
      setMeshTracer(undefined);
      await started.shutdown(current.settings.shutdownTimeoutMs);
    },
  };
}
