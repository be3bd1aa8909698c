/**
 * The simulator's KV-cache events, encoded as vLLM encodes them (`vllm/distributed/kv_events.py`):
 * a msgpack batch `{ts, events, data_parallel_rank}` written by msgspec, each event a struct tagged
 * with its class name under `type`, fields in declaration order, required fields always present
 * (`null` when unset) and defaulted ones left out when equal to their default.
 *
 * vLLM has changed the shape twice; `shape` picks which one to write (the adapter reads all three):
 * - `map` (default): batch and events are maps, as in vLLM's current source (both structs without
 *   `array_like`); the shape shared/reference/kv-events.md describes.
 * - `array-batch`: the batch is the positional array `[ts, events, data_parallel_rank]` and each
 *   event a tagged map (vLLM after PR #42892, e.g. v0.26, which dropped `array_like` from the events only).
 * - `array`: everything positional, an event being `[tag, field…]` (vLLM ≤ v0.23, `array_like=True`).
 */
import type { BlockHash } from './kv-cache.ts';
import { F64, packMsgspec, type MsgValue } from './msgpack-writer.ts';

/** One KV event as the simulator's engine reports it (engine hashes are its own 52-bit numbers). */
export type SimKvEvent =
  | {
      type: 'BlockStored';
      blockHashes: BlockHash[];
      parentBlockHash: BlockHash | null;
      tokenIds: number[];
      blockSize: number;
    }
  | { type: 'BlockRemoved'; blockHashes: BlockHash[] }
  | { type: 'AllBlocksCleared' };

export type KvWireShape = 'map' | 'array-batch' | 'array';

/** vLLM's `MEDIUM_GPU`. */
export const MEDIUM_GPU = 'GPU';

function eventValue(e: SimKvEvent, shape: KvWireShape): MsgValue {
  if (shape === 'array') {
    if (e.type === 'BlockStored')
      return [e.type, e.blockHashes, e.parentBlockHash, e.tokenIds, e.blockSize, null, MEDIUM_GPU, null];
    if (e.type === 'BlockRemoved') return [e.type, e.blockHashes, MEDIUM_GPU];
    return [e.type];
  }
  if (e.type === 'BlockStored') {
    return {
      type: e.type,
      block_hashes: e.blockHashes,
      parent_block_hash: e.parentBlockHash,
      token_ids: e.tokenIds,
      block_size: e.blockSize,
      lora_id: null,
      medium: MEDIUM_GPU,
      lora_name: null,
    };
  }
  if (e.type === 'BlockRemoved') return { type: e.type, block_hashes: e.blockHashes, medium: MEDIUM_GPU };
  return { type: e.type };
}

/** The msgpack payload of one batch, byte for byte as msgspec writes it (`ts`: float64 seconds). */
export function encodeKvEventBatch(
  events: readonly SimKvEvent[],
  ts: number,
  options: { shape?: KvWireShape; dataParallelRank?: number } = {},
): Buffer {
  const shape = options.shape ?? 'map';
  const evs = events.map((e) => eventValue(e, shape));
  const rank = options.dataParallelRank ?? 0;
  if (shape === 'map') return packMsgspec({ ts: new F64(ts), events: evs, data_parallel_rank: rank });
  return packMsgspec([new F64(ts), evs, rank]);
}

/** `seq` as vLLM frames it: 8 bytes, big-endian (−1, signed, ends a replay). */
export function seqFrame(seq: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(seq));
  return b;
}
