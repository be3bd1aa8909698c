/** Keeps endpoints that serve the model over the request's protocol (absent `protocols` = OpenAI only). */
import type { Filter, FilterFactory } from '../../../types.ts';

export const createProtocolFilter: FilterFactory = () =>
  ({
    name: 'protocol',
    // No array is made for the common case (absent `protocols`): this runs once per candidate.
    keep: (v, req) => {
      const spoken = v.state.protocols;
      return !req.protocol || (spoken ? spoken.includes(req.protocol) : req.protocol === 'openai');
    },
  }) satisfies Filter;
