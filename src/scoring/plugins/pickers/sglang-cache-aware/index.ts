/**
 * SGLang router's cache-aware policy, reproduced: when load is imbalanced go to the least loaded
 * worker; otherwise go to the worker with the longest prefix match if it covers enough of the
 * prompt, else to the worker whose cache tree is smallest.
 */
import type { Picker, PickerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createSglangCacheAwarePicker: PickerFactory = (params) => {
  const balanceAbs = numParam(params, 'balanceAbs', 64);
  const balanceRel = numParam(params, 'balanceRel', 1.5);
  const cacheThreshold = numParam(params, 'cacheThreshold', 0.3);
  return {
    name: 'sglang-cache-aware',
    pick(cands, n, _totals, req, ctx) {
      let minLoad = Infinity;
      let maxLoad = -Infinity;
      let least = 0;
      for (let i = 0; i < n; i++) {
        const load = cands[i]!.inFlight;
        if (load < minLoad) {
          minLoad = load;
          least = i;
        }
        if (load > maxLoad) maxLoad = load;
      }
      if (maxLoad - minLoad > balanceAbs && maxLoad > minLoad * balanceRel) return least;
      const blocks = req.blockHashes?.length ?? 0;
      const epoch = ctx.epoch();
      let bestMatch = 0;
      let best = 0;
      let smallest = 0;
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        const m = v.prefixEpoch === epoch ? v.prefixMatch : 0;
        if (m > bestMatch) {
          bestMatch = m;
          best = i;
        }
        if (v.prefixBlocks < cands[smallest]!.prefixBlocks) smallest = i;
      }
      return blocks > 0 && bestMatch / blocks > cacheThreshold ? best : smallest;
    },
  } satisfies Picker;
};
