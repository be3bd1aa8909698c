/**
 * Simulator flavours: the same engine behind another runtime's HTTP API. `vllm` is the server's
 * own API (`../server.ts`); `tgi` and `triton` are here.
 */
import type { SimulatorConfig } from '../../core/config.ts';
import type { FlavorContext, FlavorRoutes } from './common.ts';
import { createTgiRoutes } from './tgi/routes.ts';
import { createTritonRoutes } from './triton/routes.ts';

export type { FlavorContext, FlavorRoutes } from './common.ts';

/** Which runtime's API a simulator speaks. */
export type SimFlavor = SimulatorConfig['flavor'];

/** The routes of a non-vLLM flavour. */
export function createFlavorRoutes(flavor: Exclude<SimFlavor, 'vllm'>, ctx: FlavorContext): FlavorRoutes {
  return flavor === 'tgi' ? createTgiRoutes(ctx) : createTritonRoutes(ctx);
}
