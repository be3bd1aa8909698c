/** Network cost from the request's zone to the endpoint's zone, from the config's zone table. */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createNetworkCostScorer: ScorerFactory = (params) => {
  const refMs = numParam(params, 'refMs', 20);
  return {
    name: 'network-cost',
    constant: (req, ctx) => (!req.zone || !ctx.hasZones ? 1 : undefined),
    score(cands, n, req, ctx, out) {
      for (let i = 0; i < n; i++)
        out[i] = refMs / (refMs + ctx.networkMs(req.zone, cands[i]!, (req.promptTokens ?? 0) * 4));
    },
  } satisfies Scorer;
};
