/** Keeps endpoints that serve the requested model (and, when asked, the requested LoRA adapter). */
import type { Filter, FilterFactory } from '../../../types.ts';

export const createModelServedFilter: FilterFactory = (params) => {
  const requireLora = params.requireLora === true;
  return {
    name: 'model-served',
    keep: (v, req) =>
      v.state.model === req.model &&
      (!requireLora || !req.lora || (v.state.loraAdapters?.includes(req.lora) ?? false)),
  } satisfies Filter;
};
