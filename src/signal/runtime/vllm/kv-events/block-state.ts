/**
 * One endpoint's cached blocks, rebuilt from its KV events. Each `BlockStored` block gets the
 * mesh's own key (src/core/prefix-keys.ts), chained from its parent's key over the event's
 * `token_ids` at the engine's block size; the engine hash → key map is kept so `BlockRemoved`
 * (which names engine hashes only) can find the keys. Several engine hashes may share one key (the
 * same tokens under another LoRA or cache salt): a key leaves the set with its last holder.
 *
 * Only the GPU tier counts (`medium` absent or `GPU`) and only the first KV-cache group (hybrid
 * models publish one per attention kind); the rest is ignored.
 */
import { chainPrefixKeys, ROOT_PREFIX_KEY } from '../../../../core/prefix-keys.ts';
import type { EngineHash, KvEvent } from './decode.ts';

/** A change to the set: what the StatePlane streams (`PrefixBlocksUpdate` without the endpoint). */
export interface BlockDelta {
  blockSize: number;
  reset: boolean;
  added: number[];
  removed: number[];
  rebuilding: boolean;
}

export interface BlockStateCounters {
  stored: number;
  removed: number;
  cleared: number;
  /** `BlockStored` whose parent is unknown (stored before we listened): left out. */
  orphans: number;
  /** Events of another tier or group, or with token ids that do not fill their blocks. */
  ignored: number;
}

export interface EndpointBlockState {
  /** Tokens per engine block (0 until the first `BlockStored`). */
  blockSize(): number;
  /** Keys held now. */
  keys(): ReadonlySet<number>;
  /** True after lost events, until the engine clears its cache or `rebuildMs` passes. */
  rebuilding(): boolean;
  /** Applies one batch's events; the net change, if any, goes to `onDelta`. */
  apply(events: readonly KvEvent[]): void;
  /** Forgets everything (events were lost); `rebuilding` marks the set partial meanwhile. */
  reset(rebuilding: boolean): void;
  counters(): Readonly<BlockStateCounters>;
}

export interface EndpointBlockStateOptions {
  onDelta?: (delta: BlockDelta) => void;
  /** How long a set stays `rebuilding` after a loss (default 60 s: long enough for churn to refill it). */
  rebuildMs?: number;
  now?: () => number;
}

const gpuTier = (medium: string | null) => medium === null || medium.toUpperCase() === 'GPU';
const firstGroup = (g: number | null) => g === null || g === 0;

export function createEndpointBlockState(options: EndpointBlockStateOptions = {}): EndpointBlockState {
  const now = options.now ?? Date.now;
  const rebuildMs = options.rebuildMs ?? 60_000;
  const keyOf = new Map<EngineHash, number>();
  const holders = new Map<number, number>(); // key -> engine hashes holding it
  const c: BlockStateCounters = { stored: 0, removed: 0, cleared: 0, orphans: 0, ignored: 0 };
  let blockSize = 0;
  let rebuildingUntil = 0;
  const rebuilding = () => rebuildingUntil > 0 && now() < rebuildingUntil;

  const clear = () => {
    keyOf.clear();
    holders.clear();
  };

  return {
    blockSize: () => blockSize,
    keys: () => new Set(holders.keys()),
    rebuilding,
    counters: () => c,
    reset(partial) {
      clear();
      rebuildingUntil = partial ? now() + rebuildMs : 0;
      options.onDelta?.({ blockSize, reset: true, added: [], removed: [], rebuilding: partial });
    },
    apply(events) {
      let reset = false;
      const added = new Set<number>();
      const removed = new Set<number>();
      const add = (k: number) => {
        const n = holders.get(k) ?? 0;
        holders.set(k, n + 1);
        if (n === 0 && !removed.delete(k)) added.add(k);
      };
      const drop = (k: number) => {
        const n = (holders.get(k) ?? 0) - 1;
        if (n > 0) return void holders.set(k, n);
        holders.delete(k);
        if (!added.delete(k)) removed.add(k);
      };
      for (const e of events) {
        if (e.type === 'AllBlocksCleared') {
          clear();
          added.clear();
          removed.clear();
          reset = true;
          rebuildingUntil = 0; // the engine starts empty: the set is whole again
          c.cleared++;
          continue;
        }
        if (!gpuTier(e.medium) || !firstGroup(e.groupIdx)) {
          c.ignored++;
          continue;
        }
        if (e.type === 'BlockRemoved') {
          for (const h of e.blockHashes) {
            const k = keyOf.get(h);
            if (k === undefined) continue;
            keyOf.delete(h);
            drop(k);
            c.removed++;
          }
          continue;
        }
        if (e.tokenIds.length !== e.blockHashes.length * e.blockSize) {
          c.ignored++;
          continue;
        }
        if (blockSize !== e.blockSize) {
          // A new block size (first event, or the engine restarted with another): start over.
          if (blockSize !== 0) {
            clear();
            added.clear();
            removed.clear();
            reset = true;
          }
          blockSize = e.blockSize;
        }
        const parent = e.parentBlockHash === null ? ROOT_PREFIX_KEY : keyOf.get(e.parentBlockHash);
        if (parent === undefined) {
          c.orphans++;
          continue;
        }
        const keys = chainPrefixKeys(e.tokenIds, blockSize, parent);
        for (let i = 0; i < keys.length; i++) {
          const h = e.blockHashes[i]!;
          const old = keyOf.get(h);
          if (old === keys[i]) continue; // stored twice
          if (old !== undefined) drop(old);
          keyOf.set(h, keys[i]!);
          add(keys[i]!);
          c.stored++;
        }
      }
      if (!reset && added.size === 0 && removed.size === 0) return;
      options.onDelta?.({
        blockSize,
        reset,
        added: reset ? [...holders.keys()] : [...added],
        removed: reset ? [] : [...removed],
        rebuilding: rebuilding(),
      });
    },
  };
}
