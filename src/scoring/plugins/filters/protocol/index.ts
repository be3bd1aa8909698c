/** Keeps endpoints that serve the model over the request's protocol (absent `protocols` = OpenAI only). */
import type { Filter, FilterFactory } from '../../../types.ts';

export const createProtocolFilter: FilterFactory = () =>
  ({
    name: 'protocol',
    keep: (v, req) => !req.protocol || (v.state.protocols ?? ['openai']).includes(req.protocol),
  }) satisfies Filter;
