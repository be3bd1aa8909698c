/**
 * The registry of runtime adapters: which runtimes the scraper can read. A runtime without an
 * adapter is still listed by the scraper (health `unknown`), so configuring one never fails.
 */
import type { RuntimeKind } from '../../core/types.ts';
import type { SendRequest } from './control-http.ts';
import type { GetText } from './http.ts';
import { createOvmsAdapter } from './ovms/adapter.ts';
import { createSglangAdapter } from './sglang/adapter.ts';
import { createTfServingAdapter } from './tfserving/adapter.ts';
import { createTgiAdapter } from './tgi/adapter.ts';
import { createTorchServeAdapter } from './torchserve/adapter.ts';
import { createTritonAdapter } from './triton/adapter.ts';
import type { RuntimeAdapter, RuntimeEndpoint } from './types.ts';
import { createVllmAdapter } from './vllm/adapter.ts';

export interface AdapterContext {
  endpointId: string;
  node: string;
  getText: GetText;
  /** For model lifecycle calls; adapters of runtimes that can load models get a `control` with it. */
  send?: SendRequest;
  maxBodyBytes?: number;
  minWindowMs?: number;
}

type AdapterFactory = (endpoint: RuntimeEndpoint, ctx: AdapterContext) => RuntimeAdapter;

/** Options every adapter takes, from the endpoint config and the scraper. */
function common(endpoint: RuntimeEndpoint, ctx: AdapterContext) {
  return {
    endpointId: ctx.endpointId,
    node: ctx.node,
    url: endpoint.url,
    getText: ctx.getText,
    ...(endpoint.gpuType === undefined ? {} : { gpuType: endpoint.gpuType }),
    ...(ctx.maxBodyBytes === undefined ? {} : { maxMetricsBytes: ctx.maxBodyBytes }),
    ...(ctx.minWindowMs === undefined ? {} : { minWindowMs: ctx.minWindowMs }),
  };
}

const send = (ctx: AdapterContext) => (ctx.send ? { send: ctx.send } : {});
const metricsUrl = (ep: RuntimeEndpoint) => (ep.metricsUrl ? { metricsUrl: ep.metricsUrl } : {});

const FACTORIES: Record<RuntimeKind, AdapterFactory> = {
  vllm: (ep, ctx) => createVllmAdapter({ ...common(ep, ctx), ...send(ctx) }),
  sglang: (ep, ctx) => createSglangAdapter(common(ep, ctx)),
  tgi: (ep, ctx) => createTgiAdapter(common(ep, ctx)),
  triton: (ep, ctx) => createTritonAdapter({ ...common(ep, ctx), ...metricsUrl(ep), ...send(ctx) }),
  torchserve: (ep, ctx) =>
    createTorchServeAdapter({
      ...common(ep, ctx),
      ...metricsUrl(ep),
      ...(ep.managementUrl ? { managementUrl: ep.managementUrl } : {}),
      ...send(ctx),
    }),
  tfserving: (ep, ctx) =>
    createTfServingAdapter({
      ...common(ep, ctx),
      ...metricsUrl(ep),
      ...(ep.models ? { models: ep.models } : {}),
    }),
  ovms: (ep, ctx) => createOvmsAdapter({ ...common(ep, ctx), ...metricsUrl(ep) }),
};

/** Runtimes that have an adapter. */
export const SUPPORTED_RUNTIMES = Object.keys(FACTORIES) as RuntimeKind[];

/** The adapter for an endpoint, or undefined when its runtime has none. */
export function createRuntimeAdapter(
  endpoint: RuntimeEndpoint,
  ctx: AdapterContext,
): RuntimeAdapter | undefined {
  const factory = (FACTORIES as Partial<Record<string, AdapterFactory>>)[endpoint.runtime];
  return factory?.(endpoint, ctx);
}
