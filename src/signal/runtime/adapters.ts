/**
 * The registry of runtime adapters: which runtimes the scraper can read today. A runtime without
 * an adapter is still listed by the scraper (health `unknown`), so configuring one never fails.
 */
import type { RuntimeKind } from '../../core/types.ts';
import type { GetText } from './http.ts';
import type { RuntimeAdapter, RuntimeEndpoint } from './types.ts';
import { createVllmAdapter } from './vllm/adapter.ts';

export interface AdapterContext {
  endpointId: string;
  node: string;
  getText: GetText;
  maxBodyBytes?: number;
  minWindowMs?: number;
}

type AdapterFactory = (endpoint: RuntimeEndpoint, ctx: AdapterContext) => RuntimeAdapter;

const FACTORIES: Partial<Record<RuntimeKind, AdapterFactory>> = {
  vllm: (endpoint, ctx) =>
    createVllmAdapter({
      endpointId: ctx.endpointId,
      node: ctx.node,
      url: endpoint.url,
      getText: ctx.getText,
      ...(endpoint.gpuType === undefined ? {} : { gpuType: endpoint.gpuType }),
      ...(ctx.maxBodyBytes === undefined ? {} : { maxMetricsBytes: ctx.maxBodyBytes }),
      ...(ctx.minWindowMs === undefined ? {} : { minWindowMs: ctx.minWindowMs }),
    }),
};

/** Runtimes that have an adapter. */
export const SUPPORTED_RUNTIMES = Object.keys(FACTORIES) as RuntimeKind[];

/** The adapter for an endpoint, or undefined when its runtime has none yet. */
export function createRuntimeAdapter(
  endpoint: RuntimeEndpoint,
  ctx: AdapterContext,
): RuntimeAdapter | undefined {
  return FACTORIES[endpoint.runtime]?.(endpoint, ctx);
}
