/**
 * Decodes one vLLM KV-event payload (the third ZeroMQ frame; msgpack written by msgspec). Every
 * shape vLLM has published is read: the batch as a map `{ts, events, data_parallel_rank}` or as
 * the positional array `[ts, events, rank?]`; each event as a map tagged under `type` (vLLM after
 * PR #42892) or as the positional `[tag, field…]` (`array_like=True`, vLLM ≤ v0.23). Block hashes
 * are opaque: 64-bit integers (beyond 2^53 read exactly) or byte strings. SGLang's stream has the
 * same layout. An unreadable batch throws `KvDecodeError`; an unreadable event in a readable batch
 * is skipped and counted.
 */
import { Unpackr } from 'msgpackr';

/** An engine block hash as a map key: the number itself when exact, else a tagged string. */
export type EngineHash = number | string;

export type KvEvent =
  | {
      type: 'BlockStored';
      blockHashes: EngineHash[];
      parentBlockHash: EngineHash | null;
      tokenIds: number[];
      blockSize: number;
      medium: string | null;
      groupIdx: number | null;
    }
  | { type: 'BlockRemoved'; blockHashes: EngineHash[]; medium: string | null; groupIdx: number | null }
  | { type: 'AllBlocksCleared' };

export interface KvEventBatch {
  /** Seconds since the epoch, as the engine stamped it. */
  ts: number;
  events: KvEvent[];
  dataParallelRank: number | null;
  /** Events of unknown kind or unreadable fields, left out. */
  skipped: number;
}

export class KvDecodeError extends Error {}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

/** Normalises an engine hash; undefined when it is neither an integer nor bytes. */
export function engineHash(v: unknown): EngineHash | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : `i${v.toString(16)}`;
  }
  if (v instanceof Uint8Array) return `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  return undefined;
}

function hashes(v: unknown): EngineHash[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: EngineHash[] = [];
  for (const x of v) {
    const h = engineHash(x);
    if (h === undefined) return undefined;
    out.push(h);
  }
  return out;
}

const intOrNull = (v: unknown): number | null | undefined =>
  v === null || v === undefined ? null : typeof v === 'number' && Number.isInteger(v) ? v : undefined;
const strOrNull = (v: unknown): string | null | undefined =>
  v === null || v === undefined ? null : typeof v === 'string' ? v : undefined;

/** Positional field names per tag (the order of vLLM's struct declarations). */
const FIELDS: Record<string, readonly string[]> = {
  BlockStored: [
    'block_hashes',
    'parent_block_hash',
    'token_ids',
    'block_size',
    'lora_id',
    'medium',
    'lora_name',
    'extra_keys',
    'group_idx',
  ],
  BlockRemoved: ['block_hashes', 'medium', 'group_idx'],
  AllBlocksCleared: [],
};

function fieldsOf(raw: unknown): { type: string; f: Record<string, unknown> } | undefined {
  if (Array.isArray(raw)) {
    const [tag, ...rest] = raw as unknown[];
    if (typeof tag !== 'string') return undefined;
    const names = FIELDS[tag] ?? [];
    const f: Record<string, unknown> = {};
    names.forEach((n, i) => (f[n] = rest[i]));
    return { type: tag, f };
  }
  if (raw !== null && typeof raw === 'object' && !(raw instanceof Uint8Array)) {
    const f = raw as Record<string, unknown>;
    return typeof f.type === 'string' ? { type: f.type, f } : undefined;
  }
  return undefined;
}

function decodeEvent(raw: unknown): KvEvent | undefined {
  const e = fieldsOf(raw);
  if (!e) return undefined;
  const { f } = e;
  if (e.type === 'AllBlocksCleared') return { type: 'AllBlocksCleared' };
  const blockHashes = hashes(f.block_hashes);
  const medium = strOrNull(f.medium);
  const groupIdx = intOrNull(f.group_idx);
  if (!blockHashes || medium === undefined || groupIdx === undefined) return undefined;
  if (e.type === 'BlockRemoved') return { type: 'BlockRemoved', blockHashes, medium, groupIdx };
  if (e.type !== 'BlockStored') return undefined;
  const parent =
    f.parent_block_hash === null || f.parent_block_hash === undefined
      ? null
      : engineHash(f.parent_block_hash);
  const tokenIds = f.token_ids;
  const blockSize = f.block_size;
  if (parent === undefined || !Array.isArray(tokenIds) || typeof blockSize !== 'number') return undefined;
  if (!Number.isInteger(blockSize) || blockSize < 1) return undefined;
  if (!tokenIds.every((t) => typeof t === 'number' && Number.isInteger(t))) return undefined;
  return {
    type: 'BlockStored',
    blockHashes,
    parentBlockHash: parent,
    tokenIds: tokenIds as number[],
    blockSize,
    medium,
    groupIdx,
  };
}

/** Decodes one payload; throws `KvDecodeError` when it is not a KV-event batch. */
export function decodeKvEventBatch(payload: Uint8Array): KvEventBatch {
  let raw: unknown;
  try {
    raw = unpackr.unpack(payload);
  } catch (err) {
    throw new KvDecodeError(`not msgpack: ${(err as Error).message}`);
  }
  let ts: unknown, events: unknown, rank: unknown;
  if (Array.isArray(raw)) [ts, events, rank] = raw as unknown[];
  else if (raw !== null && typeof raw === 'object' && !(raw instanceof Uint8Array)) {
    const m = raw as Record<string, unknown>;
    ({ ts, events } = m);
    rank = m.data_parallel_rank;
  } else throw new KvDecodeError('not a batch (neither map nor array)');
  if (typeof ts === 'bigint') ts = Number(ts);
  if (typeof ts !== 'number' || !Array.isArray(events))
    throw new KvDecodeError('batch without ts and events');
  const out: KvEvent[] = [];
  let skipped = 0;
  for (const raw of events) {
    const e = decodeEvent(raw);
    if (e) out.push(e);
    else skipped++;
  }
  return { ts, events: out, dataParallelRank: typeof rank === 'number' ? rank : null, skipped };
}
