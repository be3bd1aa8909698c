/**
 * The mesh's own key for a KV-cache block: a chained hash of the block's token ids at the engine's
 * block size. The gpu role computes it from the `token_ids` of a runtime's `BlockStored` events and
 * the router from the request's token ids, so both sides agree without ever reproducing the
 * engine's own block hashes (which depend on the runtime's version, hash function and extra keys).
 *
 * Key i depends on blocks 0..i and on the block size, so equal keys mean equal whole prefixes cut
 * into equal blocks. Keys are 52-bit non-negative integers (safe in a JS number and a protobuf
 * uint64 read as a number); `ROOT_PREFIX_KEY` (0) is the parent of a prompt's first block.
 */

/** The parent of the first block of every prompt. */
export const ROOT_PREFIX_KEY = 0;

/**
 * Chained keys of the full `blockSize`-token blocks of `ids[start…]` (a trailing partial block gets
 * none), chaining from `parent` (`ROOT_PREFIX_KEY` for a prompt's first block).
 */
export function chainPrefixKeys(
  ids: ArrayLike<number>,
  blockSize: number,
  parent = ROOT_PREFIX_KEY,
  start = 0,
): number[] {
  const out: number[] = [];
  if (!(blockSize > 0)) return out;
  let key = parent;
  for (let b = start; b + blockSize <= ids.length; b += blockSize) {
    // Two 32-bit FNV-style lanes seeded by the parent key and the block size, mixed per token.
    let h1 = (0x9e3779b9 ^ (key >>> 0) ^ Math.imul(blockSize, 0x85ebca6b)) | 0;
    let h2 = (0x7f4a7c15 ^ Math.floor(key / 4294967296)) | 0;
    for (let i = b; i < b + blockSize; i++) {
      const t = ids[i] ?? 0;
      h1 = Math.imul(h1 ^ t, 0x01000193);
      h1 ^= h1 >>> 13;
      h2 = Math.imul(h2 ^ t, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    key = (h1 >>> 0) + (h2 >>> 12) * 4294967296;
    if (key === ROOT_PREFIX_KEY) key = 1; // never the root
    out.push(key);
  }
  return out;
}
