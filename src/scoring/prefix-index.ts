/**
 * The router's own prefix-cache index: which prompt blocks it has sent to which endpoint, learned
 * from its routing history (no runtime cooperation needed). Blocks are chained hashes of fixed-size
 * runs of token ids, so equal hashes mean equal whole prefixes. Each endpoint keeps at most
 * `capacityBlocks` blocks, least recently used evicted first, roughly mirroring the runtime's own
 * LRU prefix cache.
 */
import type { EndpointView } from './types.ts';

/** Default tokens per router-side block: small enough to catch short shared system prompts. */
export const PREFIX_BLOCK_TOKENS = 64;

/**
 * Chained 32-bit hashes of the full `blockTokens`-sized blocks of `ids` (a trailing partial block
 * is ignored, as a runtime caches only full blocks). Block i's hash depends on blocks 0..i.
 */
export function prefixBlockHashes(ids: ArrayLike<number>, blockTokens = PREFIX_BLOCK_TOKENS): Uint32Array {
  const blocks = Math.floor(ids.length / blockTokens);
  const out = new Uint32Array(blocks);
  let h = 0x811c9dc5;
  for (let b = 0; b < blocks; b++) {
    const end = (b + 1) * blockTokens;
    for (let i = b * blockTokens; i < end; i++) {
      h = Math.imul(h ^ (ids[i] ?? 0), 0x01000193);
      h ^= h >>> 15;
    }
    out[b] = h >>> 0;
  }
  return out;
}

export interface PrefixIndex {
  /**
   * Sets `view.prefixMatch` (leading blocks of `hashes` held) and `view.prefixEpoch = epoch` on every
   * endpoint holding at least the first block; others keep an older epoch (meaning 0). Returns the
   * longest match found.
   */
  match(hashes: ArrayLike<number>, epoch: number): number;
  /** Records that `view` was sent these blocks (touching them as most recent). */
  record(view: EndpointView, hashes: ArrayLike<number>): void;
  /** Forgets an endpoint. */
  drop(view: EndpointView): void;
  /** Blocks held for an endpoint. */
  size(view: EndpointView): number;
}

/** A bounded index; `capacityBlocks` per endpoint (default 8192 blocks of 64 tokens ≈ 512k tokens). */
export function createPrefixIndex(capacityBlocks = 8192): PrefixIndex {
  const holders = new Map<number, Set<EndpointView>>();
  const perEndpoint = new Map<EndpointView, Map<number, true>>();

  const release = (view: EndpointView, hash: number) => {
    const set = holders.get(hash);
    if (!set) return;
    set.delete(view);
    if (set.size === 0) holders.delete(hash);
  };

  return {
    match(hashes, epoch) {
      let best = 0;
      for (let i = 0; i < hashes.length; i++) {
        const set = holders.get(hashes[i] ?? 0);
        if (!set) break;
        let advanced = false;
        for (const v of set) {
          if (i === 0 || (v.prefixEpoch === epoch && v.prefixMatch === i)) {
            v.prefixEpoch = epoch;
            v.prefixMatch = i + 1;
            advanced = true;
          }
        }
        if (!advanced) break;
        best = i + 1;
      }
      return best;
    },
    record(view, hashes) {
      let lru = perEndpoint.get(view);
      if (!lru) perEndpoint.set(view, (lru = new Map<number, true>()));
      for (let i = 0; i < hashes.length; i++) {
        const h = hashes[i] ?? 0;
        if (lru.delete(h)) {
          lru.set(h, true);
          continue;
        }
        lru.set(h, true);
        let set = holders.get(h);
        if (!set) holders.set(h, (set = new Set()));
        set.add(view);
        if (lru.size > capacityBlocks) {
          const oldest = lru.keys().next().value as number;
          lru.delete(oldest);
          release(view, oldest);
        }
      }
      view.prefixBlocks = lru.size;
    },
    drop(view) {
      const lru = perEndpoint.get(view);
      if (!lru) return;
      for (const h of lru.keys()) release(view, h);
      perEndpoint.delete(view);
      view.prefixBlocks = 0;
    },
    size: (view) => perEndpoint.get(view)?.size ?? 0,
  };
}
