import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracingConfigSchema, type TracingConfig } from '../../core/config-tracing.ts';
import { parseKeyValues, resolveTracingSettings } from './settings.ts';

const config = (input: Partial<TracingConfig> = {}): TracingConfig => tracingConfigSchema.parse(input);

test('off by default, with no OTEL variables', () => {
  assert.equal(resolveTracingSettings(config(), {}).settings, undefined);
});

test('the config block turns it on with the spec defaults: localhost:4318, protobuf, parent-based always on', () => {
  const { settings } = resolveTracingSettings(config({ enabled: true }), {});
  assert.equal(settings?.url, 'http://localhost:4318/v1/traces');
  assert.equal(settings?.protocol, 'http/protobuf');
  assert.equal(settings?.sampler, 'parentbased_always_on');
  assert.equal(settings?.serviceName, 'meshd');
});

test('an OTLP endpoint variable or OTEL_TRACES_EXPORTER=otlp turns it on without the config', () => {
  const base = resolveTracingSettings(config(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
  assert.equal(base.settings?.url, 'http://collector:4318/v1/traces');
  const own = resolveTracingSettings(config(), {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318',
  });
  assert.equal(own.settings?.url, 'http://collector:4318/custom', 'the signal URL is used as it is');
  assert.ok(resolveTracingSettings(config(), { OTEL_TRACES_EXPORTER: 'otlp' }).settings);
});

test('OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none turn it off whatever the config says', () => {
  const on = config({ enabled: true });
  assert.equal(resolveTracingSettings(on, { OTEL_SDK_DISABLED: 'TRUE' }).settings, undefined);
  assert.equal(resolveTracingSettings(on, { OTEL_TRACES_EXPORTER: 'none' }).settings, undefined);
  assert.ok(resolveTracingSettings(on, { OTEL_SDK_DISABLED: 'false' }).settings);
});

test('variables override the config block; empty variables count as unset', () => {
  const block = config({
    enabled: true,
    endpoint: 'http://from-config:4318',
    protocol: 'http/json',
    headers: { 'x-a': 'config', 'x-b': 'config' },
    serviceName: 'from-config',
    sampler: 'always_on',
    samplerArg: 0.5,
  });
  const { settings } = resolveTracingSettings(block, {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://from-env:4318',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-a=env,x-c=a%20b',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-c=traces',
    OTEL_SERVICE_NAME: 'from-env',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_EXPORTER_OTLP_TIMEOUT: '',
  });
  assert.equal(settings?.url, 'http://from-env:4318/v1/traces');
  assert.equal(settings?.protocol, 'http/protobuf');
  assert.deepEqual(settings?.headers, { 'x-a': 'env', 'x-b': 'config', 'x-c': 'traces' });
  assert.equal(settings?.serviceName, 'from-env');
  assert.equal(settings?.sampler, 'parentbased_traceidratio');
  assert.equal(settings?.samplerArg, 0.25);
  assert.equal(settings?.exportTimeoutMs, 10_000);
  const fromConfig = resolveTracingSettings(block, { OTEL_SERVICE_NAME: '' }).settings;
  assert.equal(fromConfig?.url, 'http://from-config:4318/v1/traces');
  assert.equal(fromConfig?.protocol, 'http/json');
  assert.equal(fromConfig?.serviceName, 'from-config');
});

test('service.name from OTEL_RESOURCE_ATTRIBUTES, below OTEL_SERVICE_NAME; the other attributes kept', () => {
  const attrs = { OTEL_RESOURCE_ATTRIBUTES: 'service.name=res,deployment.environment=prod' };
  const { settings } = resolveTracingSettings(config({ enabled: true }), attrs);
  assert.equal(settings?.serviceName, 'res');
  assert.deepEqual(settings?.resourceAttributes, { 'deployment.environment': 'prod' });
  const named = resolveTracingSettings(config({ enabled: true }), { ...attrs, OTEL_SERVICE_NAME: 'svc' });
  assert.equal(named.settings?.serviceName, 'svc');
});

test('values it cannot use are warned about and replaced, never fatal', () => {
  const { settings, warnings } = resolveTracingSettings(config({ enabled: true }), {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_TRACES_SAMPLER: 'jaeger_remote',
    OTEL_TRACES_SAMPLER_ARG: '2',
    OTEL_TRACES_EXPORTER: 'otlp,zipkin',
  });
  assert.equal(settings?.protocol, 'http/protobuf');
  assert.equal(settings?.sampler, 'parentbased_always_on');
  assert.equal(settings?.samplerArg, 1);
  assert.equal(warnings.length, 4, warnings.join('\n'));
});

test('key=value lists: percent-decoded values, malformed entries skipped', () => {
  assert.deepEqual(parseKeyValues('a=1, b = x%2Cy ,=c,d,e=%zz'), { a: '1', b: 'x,y', e: '%zz' });
  assert.deepEqual(parseKeyValues(undefined), {});
});
