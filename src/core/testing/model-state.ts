/**
 * Test fixture: a healthy, loaded `ModelState` of model `m` on node `n1`, with `extra` overriding
 * any field. For specs that need a record to route over, not for expected values of an adapter.
 */
import type { ModelState } from '../types.ts';

export function modelState(endpointId: string, extra: Partial<ModelState> = {}): ModelState {
  return {
    endpointId,
    endpointUrl: `http://127.0.0.1/${endpointId}`,
    node: 'n1',
    model: 'm',
    runtime: 'vllm',
    health: 'healthy',
    loaded: true,
    warming: false,
    updatedAt: 0,
    ...extra,
  };
}
