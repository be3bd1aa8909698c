/**
 * The binary form of a routing event in the shared journal: a record of whole 64-byte slots,
 * written into a reusable scratch buffer (no allocation per event) and read back the same way.
 *
 *   0 u32 commit tag (written last, atomically, by the journal)   4 u32 slots
 *   8 u8 kind  9 u8 flags (1 ok, 2 firstTokenSeen, 4 queued, 8 censored, 16 streamed, 32 relayed)
 *  12 u32 origin  16 u32 ticket  20 u32 key bytes  24 u32 hash count  32..88 f64 × 7 (per kind, below)
 *  88 key (UTF-8), hashes (u32)   (kinds: 1 routed, 2 first, 3 finished)
 */
import type { FinishedEvent, FirstTokenEvent, RoutedEvent, RoutingEvent } from './events.ts';

export const SLOT_BYTES = 64;
const HEADER = 88;
const KIND = { routed: 1, first: 2, finished: 3 } as const;
const OK = 1;
const FIRST_TOKEN_SEEN = 2;
const QUEUED = 4;
const CENSORED = 8;
const STREAMED = 16;
const RELAYED = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A growable scratch area for one record, with its views. */
export class RecordBuffer {
  bytes = new Uint8Array(4 * SLOT_BYTES);
  view = new DataView(this.bytes.buffer);

  /** Makes room for `size` bytes (whole slots). */
  ensure(size: number): void {
    if (size <= this.bytes.length) return;
    let n = this.bytes.length;
    while (n < size) n *= 2;
    this.bytes = new Uint8Array(n);
    this.view = new DataView(this.bytes.buffer);
  }
}

/**
 * The keys a reader has decoded, by their bytes: a replica reads the same few endpoint keys for
 * every event, and decoding each anew would cost a string (and its hashing in the fleet's map) per
 * event. Bounded: cleared when the fleet's churn has filled it.
 */
export class KeyTable {
  private readonly byHash = new Map<number, Array<{ bytes: Uint8Array; key: string }>>();
  private size = 0;
  private readonly limit: number;

  constructor(limit = 4096) {
    this.limit = limit;
  }

  get(bytes: Uint8Array): string {
    let hash = 0x811c9dc5;
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
    const bucket = this.byHash.get(hash);
    if (bucket) for (const entry of bucket) if (sameBytes(entry.bytes, bytes)) return entry.key;
    if (this.size >= this.limit) {
      this.byHash.clear();
      this.size = 0;
    }
    const key = decoder.decode(bytes);
    const entry = { bytes: bytes.slice(), key };
    if (bucket && this.byHash.has(hash)) bucket.push(entry);
    else this.byHash.set(hash, [entry]);
    this.size++;
    return key;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Slots a record of `event` takes. */
export function slotsFor(event: RoutingEvent): number {
  // UTF-8 is at most 3 bytes per UTF-16 unit: an upper bound that needs no encoding pass.
  const keyMax = event.key.length * 3;
  const hashes = event.kind === 'routed' ? event.hashes.length : 0;
  return Math.ceil((alignedHashes(HEADER + keyMax) + 4 * hashes) / SLOT_BYTES);
}

const alignedHashes = (offset: number) => (offset + 3) & ~3;

/** Writes `event` into `buf` (the tag left 0); returns the slots used. */
export function encodeEvent(event: RoutingEvent, buf: RecordBuffer): number {
  buf.ensure(slotsFor(event) * SLOT_BYTES);
  const { bytes, view } = buf;
  const keyBytes = encoder.encodeInto(event.key, bytes.subarray(HEADER)).written;
  const hashOffset = alignedHashes(HEADER + keyBytes);
  const hashes = event.kind === 'routed' ? event.hashes : [];
  const slots = Math.ceil((hashOffset + 4 * hashes.length) / SLOT_BYTES);
  view.setUint32(0, 0, true);
  view.setUint32(4, slots, true);
  view.setUint8(8, KIND[event.kind]);
  view.setUint32(12, event.origin, true);
  view.setUint32(16, event.ticket, true);
  view.setUint32(20, keyBytes, true);
  view.setUint32(24, hashes.length, true);
  view.setFloat64(32, event.at, true);
  let flags = (event.streamed ? STREAMED : 0) | (event.relayed ? RELAYED : 0);
  if (event.kind === 'routed') {
    view.setFloat64(40, event.tokens, true);
    view.setFloat64(48, event.work, true);
    view.setFloat64(56, event.promptTokens, true);
  } else if (event.kind === 'first') {
    view.setFloat64(40, event.work, true);
    view.setFloat64(48, event.sentAt, true);
    view.setFloat64(56, event.predictedWaitMs, true);
    view.setFloat64(64, event.predictedDoneAt, true);
    view.setFloat64(72, event.ttftMs, true);
    view.setFloat64(80, event.runtimeRate, true);
    flags |= (event.queued ? QUEUED : 0) | (event.censored ? CENSORED : 0);
  } else {
    view.setFloat64(40, event.tokens, true);
    view.setFloat64(48, event.work, true);
    view.setFloat64(56, event.predictedDoneAt, true);
    view.setFloat64(64, event.e2eMs, true);
    flags |= (event.ok ? OK : 0) | (event.firstTokenSeen ? FIRST_TOKEN_SEEN : 0);
  }
  view.setUint8(9, flags);
  for (let i = 0; i < hashes.length; i++) view.setUint32(hashOffset + 4 * i, hashes[i] ?? 0, true);
  return slots;
}

/** Reads the event of the record in `buf`, its key through `keys` when given. */
export function decodeEvent(buf: RecordBuffer, keys?: KeyTable): RoutingEvent {
  const { bytes, view } = buf;
  const kind = view.getUint8(8);
  const flags = view.getUint8(9);
  const origin = view.getUint32(12, true);
  const ticket = view.getUint32(16, true);
  const keyBytes = view.getUint32(20, true);
  const keyView = bytes.subarray(HEADER, HEADER + keyBytes);
  const key = keys ? keys.get(keyView) : decoder.decode(keyView);
  const at = view.getFloat64(32, true);
  const f = (offset: number) => view.getFloat64(offset, true);
  if (kind === KIND.routed) {
    const count = view.getUint32(24, true);
    const hashes = new Uint32Array(count);
    const hashOffset = alignedHashes(HEADER + keyBytes);
    for (let i = 0; i < count; i++) hashes[i] = view.getUint32(hashOffset + 4 * i, true);
    return {
      kind: 'routed',
      origin,
      ticket,
      key,
      at,
      tokens: f(40),
      work: f(48),
      promptTokens: f(56),
      hashes,
      streamed: (flags & STREAMED) !== 0,
      relayed: (flags & RELAYED) !== 0,
    } satisfies RoutedEvent;
  }
  if (kind === KIND.first) {
    return {
      kind: 'first',
      origin,
      ticket,
      key,
      at,
      work: f(40),
      sentAt: f(48),
      predictedWaitMs: f(56),
      predictedDoneAt: f(64),
      ttftMs: f(72),
      queued: (flags & QUEUED) !== 0,
      runtimeRate: f(80),
      censored: (flags & CENSORED) !== 0,
      streamed: (flags & STREAMED) !== 0,
      relayed: (flags & RELAYED) !== 0,
    } satisfies FirstTokenEvent;
  }
  return {
    kind: 'finished',
    origin,
    ticket,
    key,
    at,
    tokens: f(40),
    work: f(48),
    predictedDoneAt: f(56),
    e2eMs: f(64),
    ok: (flags & OK) !== 0,
    firstTokenSeen: (flags & FIRST_TOKEN_SEEN) !== 0,
    streamed: (flags & STREAMED) !== 0,
    relayed: (flags & RELAYED) !== 0,
  } satisfies FinishedEvent;
}
