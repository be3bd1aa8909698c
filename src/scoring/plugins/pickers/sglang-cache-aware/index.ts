/**
 * SGLang router's `cache_aware` policy: when the router's own per-worker load is imbalanced, the
 * least loaded worker; otherwise the worker whose approximate radix tree holds the longest prefix
 * of the prompt if it covers more than `cacheThreshold` of it, else the worker with the smallest
 * tree. The chosen worker's tree records the prompt (in both paths); trees over `maxTreeTokens`
 * lose their least recently used leaves every `evictionIntervalMs`. Ties are broken at random.
 */
import type { EndpointView, Picker, PickerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';
import { createApproxTree } from './approx-tree.ts';

/** sgl-router `RouterArgs` defaults (see README). `max_tree_size` 2^26 characters at ~4 per token. */
export const SGLANG_DEFAULTS = {
  cacheThreshold: 0.3,
  balanceAbs: 64,
  balanceRel: 1.5,
  evictionIntervalMs: 120_000,
  maxTreeTokens: 2 ** 26 / 4,
} as const;

export const createSglangCacheAwarePicker: PickerFactory = (params) => {
  const balanceAbs = numParam(params, 'balanceAbs', SGLANG_DEFAULTS.balanceAbs);
  const balanceRel = numParam(params, 'balanceRel', SGLANG_DEFAULTS.balanceRel);
  const cacheThreshold = numParam(params, 'cacheThreshold', SGLANG_DEFAULTS.cacheThreshold);
  const maxTreeTokens = numParam(params, 'maxTreeTokens', SGLANG_DEFAULTS.maxTreeTokens);
  const evictionIntervalMs = numParam(params, 'evictionIntervalMs', SGLANG_DEFAULTS.evictionIntervalMs);
  const tree = createApproxTree<EndpointView>();
  const holders: EndpointView[] = [];
  // Candidate marks by view index: `mark[index] === decision` while `pick` runs; `slot` is its position.
  let mark = new Int32Array(64);
  let slot = new Int32Array(64);
  let decision = 0;
  let nextEvictionAt = Number.NaN;
  const isCandidate = (v: EndpointView) => v.index < mark.length && mark[v.index] === decision;

  /** Uniform choice among the candidates minimising `key` (reservoir sampling, one pass). */
  const argminFair = (
    cands: readonly EndpointView[],
    n: number,
    key: (v: EndpointView) => number,
    random: () => number,
  ) => {
    let best = 0;
    let bestKey = Infinity;
    let ties = 0;
    for (let i = 0; i < n; i++) {
      const k = key(cands[i]!);
      if (k < bestKey) {
        best = i;
        bestKey = k;
        ties = 1;
      } else if (k === bestKey && random() * ++ties < 1) best = i;
    }
    return best;
  };

  return {
    name: 'sglang-cache-aware',
    pick(cands, n, _totals, req, ctx) {
      const hashes = req.blockHashes ?? [];
      const bt = ctx.blockTokens;
      const promptTokens = Math.max(req.promptTokens ?? 0, hashes.length * bt);
      const record = (i: number) => {
        tree.insert(cands[i]!, hashes, bt, promptTokens - hashes.length * bt);
        const now = ctx.now();
        if (Number.isNaN(nextEvictionAt)) nextEvictionAt = now + evictionIntervalMs;
        if (now >= nextEvictionAt) {
          tree.evict(maxTreeTokens);
          nextEvictionAt = now + evictionIntervalMs;
        }
        return i;
      };

      let minLoad = Infinity;
      let maxLoad = -Infinity;
      for (let i = 0; i < n; i++) {
        const load = cands[i]!.inFlight;
        if (load < minLoad) minLoad = load;
        if (load > maxLoad) maxLoad = load;
      }
      if (maxLoad - minLoad > balanceAbs && maxLoad > minLoad * balanceRel) {
        return record(
          argminFair(
            cands,
            n,
            (v) => v.inFlight,
            () => ctx.random(),
          ),
        );
      }

      decision++;
      let maxIndex = 0;
      for (let i = 0; i < n; i++) maxIndex = Math.max(maxIndex, cands[i]!.index);
      if (maxIndex >= mark.length) {
        mark = new Int32Array(Math.max(maxIndex + 1, mark.length * 2));
        slot = new Int32Array(mark.length);
      }
      for (let i = 0; i < n; i++) {
        mark[cands[i]!.index] = decision;
        slot[cands[i]!.index] = i;
      }

      const matched = hashes.length > 0 ? tree.match(hashes, isCandidate, holders) : 0;
      if (promptTokens > 0 && (matched * bt) / promptTokens > cacheThreshold) {
        // SGLang takes the first tenant of the matched node's (unordered) map: any holder, here at random.
        const chosen = holders[Math.floor(ctx.random() * holders.length)]!;
        holders.length = 0;
        return record(slot[chosen.index]!);
      }
      holders.length = 0;
      return record(
        argminFair(
          cands,
          n,
          (v) => tree.size(v),
          () => ctx.random(),
        ),
      );
    },
  } satisfies Picker;
};
