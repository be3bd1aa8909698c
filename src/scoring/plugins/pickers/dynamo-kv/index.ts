/**
 * NVIDIA Dynamo's KV router (`DefaultWorkerSelector`): per worker, in KV blocks,
 *
 *   cost = overlapScoreWeight × prefill_blocks + decode_blocks
 *
 * where prefill_blocks is the prompt work already queued there plus this prompt's uncached part,
 * and decode_blocks the KV already held there plus this prompt's. Temperature 0 takes the lowest
 * cost (ties: the smaller cache tree, then at random); above 0, softmax sampling of the costs
 * normalised by their range. Reads only router-side state (see README).
 */
import type { EndpointView, Picker, PickerFactory, ScoringContext } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

/** Dynamo's defaults: `--kv-overlap-score-weight 1`, `--router-temperature 0`. */
export const DYNAMO_DEFAULTS = { overlapScoreWeight: 1, temperature: 0 } as const;

/**
 * Prompt tokens the router sent to `v` whose prefill it has not seen end: the predicted prefill
 * backlog (`busyUntilMs`, in work tokens when it was sent, cut when first tokens arrive) at the
 * learned prefill rate.
 */
export function activePrefillTokens(v: EndpointView, ctx: ScoringContext): number {
  const ms = v.busyUntilMs - ctx.now();
  return ms > 0 ? (ms * ctx.serviceRate(v)) / 1000 : 0;
}

export const createDynamoKvPicker: PickerFactory = (params) => {
  const weight = numParam(params, 'overlapScoreWeight', DYNAMO_DEFAULTS.overlapScoreWeight);
  const temperature = Math.max(0, numParam(params, 'temperature', DYNAMO_DEFAULTS.temperature));
  let costs = new Float64Array(16);

  return {
    name: 'dynamo-kv',
    pick(cands, n, _totals, req, ctx) {
      if (costs.length < n) costs = new Float64Array(Math.max(n, costs.length * 2));
      const bt = ctx.blockTokens;
      const blocks = req.blockHashes?.length ?? 0;
      const prompt = Math.max(req.promptTokens ?? 0, blocks * bt);
      const epoch = ctx.epoch();
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        const overlap = blocks > 0 && v.prefixEpoch === epoch ? Math.min(v.prefixMatch, blocks) : 0;
        const prefill = (activePrefillTokens(v, ctx) + Math.max(0, prompt - overlap * bt)) / bt;
        const decode = (v.inFlightTokens + prompt) / bt;
        const c = weight * prefill + decode;
        costs[i] = c;
        if (c < lo) lo = c;
        if (c > hi) hi = c;
      }
      if (temperature > 0 && hi === lo) return Math.floor(ctx.random() * n); // uniform, as Dynamo
      if (temperature === 0) {
        // Lowest cost; among equals the smaller prefix tree, then uniformly at random.
        let best = -1;
        let ties = 0;
        for (let i = 0; i < n; i++) {
          if (costs[i] !== lo) continue;
          if (best < 0 || cands[i]!.prefixBlocks < cands[best]!.prefixBlocks) {
            best = i;
            ties = 1;
          } else if (cands[i]!.prefixBlocks === cands[best]!.prefixBlocks && ctx.random() * ++ties < 1) {
            best = i;
          }
        }
        return best;
      }
      // Softmax over −(cost / range) / temperature, shifted by its maximum for stability.
      const range = hi - lo;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const p = Math.exp((lo - costs[i]!) / range / temperature);
        costs[i] = p;
        sum += p;
      }
      let r = ctx.random() * sum;
      for (let i = 0; i < n; i++) {
        r -= costs[i]!;
        if (r <= 0) return i;
      }
      return n - 1;
    },
  } satisfies Picker;
};
