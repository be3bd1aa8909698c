/**
 * The router's precise prefix index: which blocks each endpoint's engine actually holds, from its
 * KV events (streamed by the gpu node's `WatchPrefixBlocks`, or fed in-process), plus the
 * router's own recent routes as short-lived predictions (a prompt just sent will be cached once its
 * prefill runs, before any event says so). A prediction ends when an event confirms the block (the
 * events alone then say when it goes) or after `predictionTtlMs`; a block the events already
 * hold is never predicted, so an eviction is believed at once. Keys are the mesh's own chained block keys
 * (src/core/prefix-keys.ts) at each endpoint's engine block size, computed here from the request's
 * token ids, so the router never needs the engine's hash function.
 *
 * A match is the longest run of the prompt's leading blocks that are held or predicted, in tokens;
 * `view.prefixMatch` carries it in the engine's router-block units (`tokens / blockTokens`, possibly
 * fractional) so every prefix-aware plugin (prefix-affinity, work-left's wait model, dynamo-kv)
 * reads it unchanged.
 */
import { chainPrefixKeys } from '../core/prefix-keys.ts';
import type { EndpointView } from './types.ts';

/** One change to an endpoint's block set (structurally `PrefixBlocksUpdate` of src/signal/state). */
export interface PreciseBlocksUpdate {
  endpointId: string;
  blockSize: number;
  reset: boolean;
  added: readonly number[];
  removed: readonly number[];
  rebuilding: boolean;
  gone?: boolean;
}

export interface PrecisePrefixIndexOptions {
  /**
   * How long a routed prompt's blocks count as held until an event confirms them (then the events
   * alone decide). Long enough for a queued request's prefill to run. Default 30 s.
   */
  predictionTtlMs?: number;
  /** Engine block size assumed for an endpoint with no events yet (vLLM's default 16). */
  defaultBlockSize?: number;
  /** Most predicted blocks kept per endpoint (oldest dropped first). Default 65,536. */
  maxPredicted?: number;
}

export interface PrecisePrefixIndex {
  /** Applies an update from the endpoint's events (the truth). */
  apply(update: PreciseBlocksUpdate): void;
  /** The router sent `tokenIds` to `endpointId` at `nowMs`: predict its blocks for a while. */
  predict(endpointId: string, tokenIds: ArrayLike<number>, nowMs: number): void;
  /**
   * Sets `prefixMatch` (tokens held ÷ `blockTokens`) and `prefixEpoch = epoch` on the first `n`
   * candidates; returns the longest match in tokens.
   */
  match(
    cands: readonly EndpointView[],
    n: number,
    tokenIds: ArrayLike<number>,
    epoch: number,
    blockTokens: number,
    nowMs: number,
  ): number;
  /** Blocks the events say the endpoint holds. */
  size(endpointId: string): number;
  /** Whether the endpoint's set is partial after lost events. */
  rebuilding(endpointId: string): boolean;
}

interface Entry {
  blockSize: number;
  keys: Set<number>;
  rebuilding: boolean;
  /** Predicted key → expiry (ms); insertion order is expiry order (refreshes re-insert). */
  predicted: Map<number, number>;
}

export function createPrecisePrefixIndex(options: PrecisePrefixIndexOptions = {}): PrecisePrefixIndex {
  const ttl = options.predictionTtlMs ?? 30_000;
  const defaultBlockSize = options.defaultBlockSize ?? 16;
  const maxPredicted = options.maxPredicted ?? 65_536;
  const entries = new Map<string, Entry>();
  const entry = (id: string) => {
    let e = entries.get(id);
    if (!e) {
      e = { blockSize: defaultBlockSize, keys: new Set(), rebuilding: false, predicted: new Map() };
      entries.set(id, e);
    }
    return e;
  };
  const prune = (e: Entry, now: number) => {
    for (const [k, until] of e.predicted) {
      if (until > now && e.predicted.size <= maxPredicted) break;
      e.predicted.delete(k);
    }
  };
  // Keys per block size for the request being matched (one size across a fleet, usually).
  const keysBySize = new Map<number, number[]>();

  return {
    apply(u) {
      if (u.gone) return void entries.delete(u.endpointId);
      const e = entry(u.endpointId);
      if (u.reset || e.blockSize !== u.blockSize) e.keys.clear();
      if (e.blockSize !== u.blockSize) e.predicted.clear();
      e.blockSize = u.blockSize;
      e.rebuilding = u.rebuilding;
      for (const k of u.removed) e.keys.delete(k);
      for (const k of u.added) {
        e.keys.add(k);
        e.predicted.delete(k); // confirmed: from now on the events say when it goes
      }
    },
    predict(endpointId, tokenIds, now) {
      const e = entry(endpointId);
      prune(e, now);
      const until = now + ttl;
      for (const k of chainPrefixKeys(tokenIds, e.blockSize)) {
        if (e.keys.has(k)) continue; // held: the events will say if it goes
        e.predicted.delete(k);
        e.predicted.set(k, until);
      }
    },
    match(cands, n, tokenIds, epoch, blockTokens, now) {
      keysBySize.clear();
      let best = 0;
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        const e = entries.get(v.endpointId);
        if (!e) continue;
        let keys = keysBySize.get(e.blockSize);
        if (!keys) keysBySize.set(e.blockSize, (keys = chainPrefixKeys(tokenIds, e.blockSize)));
        let j = 0;
        for (; j < keys.length; j++) {
          const k = keys[j]!;
          if (!e.keys.has(k) && !((e.predicted.get(k) ?? 0) > now)) break;
        }
        const tokens = j * e.blockSize;
        v.prefixMatch = tokens / blockTokens;
        v.prefixEpoch = epoch;
        if (tokens > best) best = tokens;
      }
      return best;
    },
    size: (id) => entries.get(id)?.keys.size ?? 0,
    rebuilding: (id) => entries.get(id)?.rebuilding ?? false,
  };
}
