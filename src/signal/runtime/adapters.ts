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
import type { AdapterOptions, RuntimeAdapter, RuntimeEndpoint } from './types.ts';
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

/** What any adapter may take; each reads only the options its runtime has. */
type AnyAdapterOptions = AdapterOptions & {
  send?: SendRequest;
  metricsUrl?: string;
  managementUrl?: string;
  models?: string[];
};

/** The options of an endpoint's adapter, from the endpoint config and the scraper. */
function optionsOf(ep: RuntimeEndpoint, ctx: AdapterContext): AnyAdapterOptions {
  return {
    endpointId: ctx.endpointId,
    node: ctx.node,
    url: ep.url,
    getText: ctx.getText,
    ...(ep.gpuType === undefined ? {} : { gpuType: ep.gpuType }),
    ...(ctx.maxBodyBytes === undefined ? {} : { maxMetricsBytes: ctx.maxBodyBytes }),
    ...(ctx.minWindowMs === undefined ? {} : { minWindowMs: ctx.minWindowMs }),
    ...(ctx.send ? { send: ctx.send } : {}),
    ...(ep.metricsUrl ? { metricsUrl: ep.metricsUrl } : {}),
    ...(ep.managementUrl ? { managementUrl: ep.managementUrl } : {}),
    ...(ep.models ? { models: ep.models } : {}),
  };
}

const FACTORIES: Record<RuntimeKind, (options: AnyAdapterOptions) => RuntimeAdapter> = {
  vllm: createVllmAdapter,
  sglang: createSglangAdapter,
  tgi: createTgiAdapter,
  triton: createTritonAdapter,
  torchserve: createTorchServeAdapter,
  tfserving: createTfServingAdapter,
  ovms: createOvmsAdapter,
};

/** Runtimes that have an adapter. */
export const SUPPORTED_RUNTIMES = Object.keys(FACTORIES) as RuntimeKind[];

/** The adapter for an endpoint, or undefined when its runtime has none. */
export function createRuntimeAdapter(
  endpoint: RuntimeEndpoint,
  ctx: AdapterContext,
): RuntimeAdapter | undefined {
  const factory = (FACTORIES as Partial<Record<string, (options: AnyAdapterOptions) => RuntimeAdapter>>)[
    endpoint.runtime
  ];
  return factory?.(optionsOf(endpoint, ctx));
}
