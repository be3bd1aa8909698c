/**
 * Tracing settings from `observability.tracing` and the standard `OTEL_*` environment variables,
 * the variables winning (OpenTelemetry's SDK configuration: "values set with environment variables
 * override equivalent configuration in code"). An empty variable counts as unset, as the spec says.
 * Pure: the environment is a parameter, so every rule has a unit test.
 */
import { OTLP_PROTOCOLS, TRACE_SAMPLERS, type TracingConfig } from '../../core/config-tracing.ts';

export type TraceSampler = (typeof TRACE_SAMPLERS)[number];
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Everything the provider needs, resolved. */
export interface TracingSettings {
  /** Where spans are POSTed: the full traces URL (`…/v1/traces`). */
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`, added to the resource (`service.name` aside). */
  resourceAttributes: Record<string, string>;
  sampler: TraceSampler;
  samplerArg: number;
  exportTimeoutMs: number;
  shutdownTimeoutMs: number;
  scrapes: boolean;
}

/** The resolution: settings when tracing is on, and what was ignored (to log once at start). */
export interface ResolvedTracing {
  settings?: TracingSettings;
  warnings: string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

/** The collector a default OpenTelemetry set-up sends to (OTLP/HTTP's port). */
export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
const TRACES_PATH = 'v1/traces';

/** Resolves `config` with `env` over it; `settings` is absent while tracing is off. */
export function resolveTracingSettings(config: TracingConfig, env: Env = process.env): ResolvedTracing {
  const warnings: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { warnings };
  const exporters = (get('OTEL_TRACES_EXPORTER') ?? '').split(',').map((e) => e.trim().toLowerCase());
  if (exporters.includes('none')) return { warnings };
  const unknown = exporters.filter((e) => e !== '' && e !== 'otlp');
  if (unknown.length > 0)
    warnings.push(`OTEL_TRACES_EXPORTER=${unknown.join(',')} is not supported: traces go over OTLP/HTTP`);
  const tracesEndpoint = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const enabled =
    config.enabled || exporters.includes('otlp') || tracesEndpoint !== undefined || endpoint !== undefined;
  if (!enabled) return { warnings };

  // The signal's own URL is used as it is; a base URL gets the signal's path appended.
  const url = tracesEndpoint ?? withTracesPath(endpoint ?? config.endpoint ?? DEFAULT_OTLP_ENDPOINT);
  const protocolName = get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? get('OTEL_EXPORTER_OTLP_PROTOCOL');
  let protocol: OtlpProtocol = config.protocol;
  if (protocolName !== undefined) {
    if ((OTLP_PROTOCOLS as readonly string[]).includes(protocolName)) protocol = protocolName as OtlpProtocol;
    else warnings.push(`OTLP protocol "${protocolName}" is not supported (HTTP only): using ${protocol}`);
  }
  const headers = {
    ...config.headers,
    ...parseKeyValues(get('OTEL_EXPORTER_OTLP_HEADERS')),
    ...parseKeyValues(get('OTEL_EXPORTER_OTLP_TRACES_HEADERS')),
  };
  const resourceAttributes = parseKeyValues(get('OTEL_RESOURCE_ATTRIBUTES'));
  // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (the spec's order).
  const serviceName = get('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? config.serviceName;
  delete resourceAttributes['service.name'];

  let sampler: TraceSampler = config.sampler;
  const samplerName = get('OTEL_TRACES_SAMPLER');
  if (samplerName !== undefined) {
    if ((TRACE_SAMPLERS as readonly string[]).includes(samplerName)) sampler = samplerName as TraceSampler;
    else warnings.push(`OTEL_TRACES_SAMPLER="${samplerName}" is not supported: using ${sampler}`);
  }
  let samplerArg = config.samplerArg;
  const arg = get('OTEL_TRACES_SAMPLER_ARG');
  if (arg !== undefined) {
    const ratio = Number(arg);
    if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) samplerArg = ratio;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG="${arg}" is not a ratio in [0, 1]: using ${samplerArg}`);
  }
  const timeout = Number(get('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ?? get('OTEL_EXPORTER_OTLP_TIMEOUT'));
  return {
    settings: {
      url,
      protocol,
      headers,
      serviceName,
      resourceAttributes,
      sampler,
      samplerArg,
      exportTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : config.exportTimeoutMs,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      scrapes: config.scrapes,
    },
    warnings,
  };
}

/** `base` with `/v1/traces` appended (one slash between), as the spec builds per-signal URLs. */
function withTracesPath(base: string): string {
  return `${base.endsWith('/') ? base : `${base}/`}${TRACES_PATH}`;
}

/**
 * `key1=value1,key2=value2` (the W3C Baggage format the spec uses for headers and resource
 * attributes): values percent-decoded; entries without `=` or a key are skipped.
 */
export function parseKeyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const entry of text.split(',')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq).trim();
    const raw = entry.slice(eq + 1).trim();
    if (key === '') continue;
    try {
      out[key] = decodeURIComponent(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}
