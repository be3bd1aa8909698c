/**
 * The paged KV cache, modelled on vLLM V1's block pool: fixed-size blocks, reference counts, a hash
 * chain over full blocks of token ids for prefix caching, and one free queue in LRU order. A freed
 * block keeps its hash (so a later request can still hit it) until it is handed out again: handing
 * out from the head of the free queue is the LRU eviction of cached blocks.
 */

/** Tokens per KV block, as vLLM's default. */
export const BLOCK_SIZE = 16;

/** A block's content hash: a 52-bit number (safe integer), chained through every earlier block. */
export type BlockHash = number;

/** Chained hashes of the full blocks of `tokens` (a trailing partial block gets no hash). */
export function blockHashes(tokens: readonly number[], blockSize = BLOCK_SIZE): BlockHash[] {
  const out: BlockHash[] = [];
  let parent = 0;
  for (let start = 0; start + blockSize <= tokens.length; start += blockSize) {
    let h1 = 0x811c9dc5 ^ (parent >>> 0);
    let h2 = 0x1b873593 ^ Math.floor(parent / 4294967296);
    for (let i = start; i < start + blockSize; i++) {
      const t = tokens[i] ?? 0;
      h1 = Math.imul(h1 ^ t, 0x01000193);
      h2 = Math.imul(h2 ^ t, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    parent = (h1 >>> 0) + (h2 >>> 12) * 4294967296;
    out.push(parent);
  }
  return out;
}

/** The block pool. Block ids are 0..numBlocks-1. */
export interface KvCache {
  readonly blockSize: number;
  readonly numBlocks: number;
  /** Blocks with no reference (including free blocks that still hold a cached hash). */
  numFree(): number;
  /** Fraction of blocks referenced by some request, 0..1 (vLLM's `kv_cache_usage_perc`). */
  usage(): number;
  /** Ids of the longest run of leading `hashes` that are cached (not yet referenced). */
  lookup(hashes: readonly BlockHash[]): number[];
  /** Takes a reference on each block (cache hits); a free block leaves the free queue. */
  touch(blockIds: readonly number[]): void;
  /** Hands out `n` blocks from the LRU head, evicting their old hashes; null (and no change) if too few. */
  allocate(n: number): number[] | null;
  /** Records that full block `blockId` holds the content `hash` (first writer wins): true if newly cached. */
  cache(blockId: number, hash: BlockHash): boolean;
  /** Forgets every cached hash (vLLM's `reset_prefix_cache`); blocks in use stay allocated. */
  clearCached(): void;
  /** Drops one reference per block; unreferenced ones join the free queue tail, last block first. */
  free(blockIds: readonly number[]): void;
  /** References held on a block (0 = free). */
  refCount(blockId: number): number;
  /** Cached hashes, for tests and introspection. */
  cachedCount(): number;
  /** The hash a block holds, if any. */
  hashOf(blockId: number): BlockHash | undefined;
}

/**
 * A pool of `numBlocks` blocks of `blockSize` tokens. `onEvict` hears every cached hash that
 * allocation evicts (the source of the simulator's `BlockRemoved` KV events).
 */
export function createKvCache(
  numBlocks: number,
  blockSize = BLOCK_SIZE,
  onEvict?: (hash: BlockHash) => void,
): KvCache {
  const refs = new Int32Array(numBlocks);
  const hashes = new Map<number, BlockHash>(); // block id -> hash
  const byHash = new Map<BlockHash, number>(); // hash -> block id
  // A Set iterates in insertion order: the first entry is the least recently freed block.
  const freeQueue = new Set<number>();
  for (let i = 0; i < numBlocks; i++) freeQueue.add(i);

  return {
    blockSize,
    numBlocks,
    numFree: () => freeQueue.size,
    usage: () => (numBlocks === 0 ? 0 : 1 - freeQueue.size / numBlocks),
    lookup(hs) {
      const ids: number[] = [];
      for (const h of hs) {
        const id = byHash.get(h);
        if (id === undefined) break;
        ids.push(id);
      }
      return ids;
    },
    touch(ids) {
      for (const id of ids) {
        if (refs[id] === 0) freeQueue.delete(id);
        refs[id] = (refs[id] ?? 0) + 1;
      }
    },
    allocate(n) {
      if (n > freeQueue.size) return null;
      const out: number[] = [];
      for (const id of freeQueue) {
        if (out.length === n) break;
        out.push(id);
      }
      for (const id of out) {
        freeQueue.delete(id);
        refs[id] = 1;
        const h = hashes.get(id);
        if (h !== undefined) {
          hashes.delete(id);
          if (byHash.get(h) === id) {
            byHash.delete(h);
            onEvict?.(h);
          }
        }
      }
      return out;
    },
    cache(id, h) {
      if (byHash.has(h) || hashes.has(id)) return false;
      byHash.set(h, id);
      hashes.set(id, h);
      return true;
    },
    clearCached() {
      hashes.clear();
      byHash.clear();
    },
    free(ids) {
      for (let i = ids.length - 1; i >= 0; i--) {
        const id = ids[i] ?? -1;
        const r = (refs[id] ?? 0) - 1;
        if (r < 0) throw new Error(`KV block ${id} freed twice`);
        refs[id] = r;
        if (r === 0) freeQueue.add(id);
      }
    },
    refCount: (id) => refs[id] ?? 0,
    cachedCount: () => byHash.size,
    hashOf: (id) => hashes.get(id),
  };
}
