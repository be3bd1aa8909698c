/**
 * `observability.tracing`: OpenTelemetry traces exported over OTLP/HTTP (docs/OBSERVABILITY.md).
 * Off by default. The standard `OTEL_*` environment variables override these keys, as the
 * OpenTelemetry SDK configuration says ("values set with environment variables override
 * equivalent configuration in code"); `src/observability/tracing/settings.ts` resolves the two.
 */
import { z } from 'zod';

/** Samplers of `OTEL_TRACES_SAMPLER` (the spec's names; the jaeger/xray ones are not built in). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** OTLP/HTTP encodings of `OTEL_EXPORTER_OTLP_PROTOCOL` (gRPC is not offered: HTTP only). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;

export const tracingConfigSchema = z
  .strictObject({
    /** Export traces. Also turned on by `OTEL_TRACES_EXPORTER=otlp` or an OTLP endpoint variable. */
    enabled: z.boolean().default(false),
    /**
     * The collector's base URL; `/v1/traces` is appended (as for `OTEL_EXPORTER_OTLP_ENDPOINT`).
     * Absent: `http://localhost:4318`.
     */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** Body encoding; the spec's default is protobuf. */
    protocol: z.enum(OTLP_PROTOCOLS).default('http/protobuf'),
    /** Headers on every export request (e.g. an API key of a hosted collector). */
    headers: z.record(z.string(), z.string()).default({}),
    /** `service.name` of the exported resource. */
    serviceName: z.string().min(1).default('meshd'),
    sampler: z.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
    /** The ratio of the `traceidratio` samplers, in [0, 1]. */
    samplerArg: z.number().min(0).max(1).default(1),
    /** Deadline of one export request. */
    exportTimeoutMs: z.number().int().positive().default(10_000),
    /** How long meshd's stop waits for the last spans to be exported before it goes on without them. */
    shutdownTimeoutMs: z.number().int().min(0).default(2000),
    /** Trace the gpu role's scrape rounds (one trace per round, so one per `gpu.scrapeIntervalMs`). */
    scrapes: z.boolean().default(true),
  })
  .prefault({});

export type TracingConfig = z.output<typeof tracingConfigSchema>;

/** `observability`: what the node tells about itself beyond `/metrics` and its logs. */
export const observabilityConfigSchema = z
  .strictObject({
    tracing: tracingConfigSchema,
  })
  .prefault({});
