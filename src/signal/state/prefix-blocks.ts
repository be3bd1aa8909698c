/**
 * Precise prefix state of a gpu node: which KV-cache blocks each of its endpoints holds, as the
 * runtimes' KV events say (src/signal/runtime/vllm/kv-events). Blocks are the mesh's own keys
 * (src/core/prefix-keys.ts) at the engine's block size. The gpu role writes updates here; the
 * StatePlane's `WatchPrefixBlocks` streams them to routers, and `feedLocalPrefixBlocks` hands them
 * to a router on the same node without a socket.
 */

/** One change to one endpoint's block set (the wire's `PrefixBlocksUpdate`). */
export interface PrefixBlocksUpdate {
  endpointId: string;
  /** Tokens per engine block. */
  blockSize: number;
  /** The set is exactly `added` (a snapshot, or the engine cleared its cache). */
  reset: boolean;
  added: readonly number[];
  removed: readonly number[];
  /** Events were lost beyond replay: the set is partial until the cache turns over. */
  rebuilding: boolean;
  /** The endpoint is gone: drop its set. */
  gone?: boolean;
}

/** Where updates go: a router-side precise index, a test. */
export interface PrefixBlocksSink {
  apply(update: PrefixBlocksUpdate): void;
}

export interface PrefixBlockHub extends PrefixBlocksSink {
  /** One `reset` update per endpoint: its whole current set. */
  snapshot(): PrefixBlocksUpdate[];
  /** The current set of one endpoint. */
  blocks(endpointId: string): ReadonlySet<number> | undefined;
  /** Hears every update applied after this call. Returns the unsubscribe function. */
  watch(listener: (update: PrefixBlocksUpdate) => void): () => void;
}

interface Entry {
  blockSize: number;
  keys: Set<number>;
  rebuilding: boolean;
}

/** An empty hub. */
export function createPrefixBlockHub(): PrefixBlockHub {
  const entries = new Map<string, Entry>();
  const listeners = new Set<(u: PrefixBlocksUpdate) => void>();
  const resetOf = (endpointId: string, e: Entry): PrefixBlocksUpdate => ({
    endpointId,
    blockSize: e.blockSize,
    reset: true,
    added: [...e.keys],
    removed: [],
    rebuilding: e.rebuilding,
  });
  return {
    apply(u) {
      if (u.gone) {
        if (!entries.delete(u.endpointId)) return;
      } else {
        let e = entries.get(u.endpointId);
        if (!e)
          entries.set(u.endpointId, (e = { blockSize: u.blockSize, keys: new Set(), rebuilding: false }));
        if (u.reset || e.blockSize !== u.blockSize) e.keys.clear();
        e.blockSize = u.blockSize;
        e.rebuilding = u.rebuilding;
        for (const k of u.removed) e.keys.delete(k);
        for (const k of u.added) e.keys.add(k);
      }
      for (const l of listeners) l(u);
    },
    snapshot: () => [...entries].map(([id, e]) => resetOf(id, e)),
    blocks: (id) => entries.get(id)?.keys,
    watch(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

/**
 * Feeds `sink` (a router's precise index on this node) from `hub`: the snapshot at once, then every
 * update. Returns the function that stops it.
 */
export function feedLocalPrefixBlocks(hub: PrefixBlockHub, sink: PrefixBlocksSink): () => void {
  const stop = hub.watch((u) => sink.apply(u));
  for (const u of hub.snapshot()) sink.apply(u);
  return stop;
}
