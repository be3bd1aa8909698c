import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Unpackr } from 'msgpackr';
import { createVirtualClock } from './clock.ts';
import { createSimEngine } from './engine.ts';
import { blockHashes } from './kv-cache.ts';
import { encodeKvEventBatch, seqFrame, type SimKvEvent } from './kv-events.ts';

const prompt = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729) >>> 0);
const raw = new Unpackr({ useRecords: false, mapsAsObjects: true });

function engineWithEvents(opts: { kvBlocks?: number } = {}) {
  const clock = createVirtualClock();
  const batches: SimKvEvent[][] = [];
  const engine = createSimEngine({ clock, ...opts, onKvEvents: (b) => batches.push(b) });
  const run = async (ids: number[], maxTokens = 2) => {
    const r = engine.submit({ promptTokenIds: ids, maxTokens });
    clock.runAll();
    await r.done;
  };
  return { engine, batches, run, events: () => batches.flat() };
}

test('a prefill publishes one BlockStored per request and step: its full blocks, chained, with their tokens', async () => {
  const { batches, run, events } = engineWithEvents();
  const a = prompt(40); // two full blocks of 16, and 8 tokens that are never cached
  await run(a);
  assert.equal(batches.length, 1);
  const hs = blockHashes(a, 16);
  assert.deepEqual(events(), [
    { type: 'BlockStored', blockHashes: hs, parentBlockHash: null, tokenIds: a.slice(0, 32), blockSize: 16 },
  ]);
  // Same first block, another second: only the new block is stored, chained on the cached one.
  const b = [...a.slice(0, 16), ...prompt(20, 9)];
  await run(b);
  const hb = blockHashes(b, 16);
  assert.deepEqual(events().at(-1), {
    type: 'BlockStored',
    blockHashes: [hb[1]],
    parentBlockHash: hb[0],
    tokenIds: b.slice(16, 32),
    blockSize: 16,
  });
});

test('evicting cached blocks publishes BlockRemoved; reset_prefix_cache publishes AllBlocksCleared', async () => {
  const { engine, run, events } = engineWithEvents({ kvBlocks: 4 });
  await run(prompt(48, 1), 1); // 3 full blocks cached, then freed (4 blocks in the pool)
  await run(prompt(48, 2), 1); // needs 3 + 1: evicts the oldest free ones
  const stored = events().filter((e) => e.type === 'BlockStored');
  const removed = events().flatMap((e) => (e.type === 'BlockRemoved' ? e.blockHashes : []));
  assert.ok(removed.length > 0);
  const first = new Set(stored[0]!.type === 'BlockStored' ? stored[0]!.blockHashes : []);
  for (const h of removed) assert.ok(first.has(h), 'only blocks the first request cached are evicted');
  engine.resetPrefixCache();
  assert.deepEqual(events().at(-1), { type: 'AllBlocksCleared' });
  assert.equal(engine.stats().cachedBlocks, 0);
});

test('without a listener the engine publishes nothing and caches as before', async () => {
  const clock = createVirtualClock();
  const engine = createSimEngine({ clock });
  const r = engine.submit({ promptTokenIds: prompt(40), maxTokens: 1 });
  clock.runAll();
  await r.done;
  assert.equal(engine.stats().cachedBlocks, 2);
});

test('the map shape is what msgspec writes for vLLM: fixmaps, the tag first, required nulls present', () => {
  const events: SimKvEvent[] = [
    {
      type: 'BlockStored',
      blockHashes: [2 ** 40 + 3],
      parentBlockHash: null,
      tokenIds: [1, 2],
      blockSize: 2,
    },
    { type: 'BlockRemoved', blockHashes: [7] },
    { type: 'AllBlocksCleared' },
  ];
  const buf = encodeKvEventBatch(events, 1789095808.25);
  // fixmap of 3, "ts", float64 1789095808.25
  assert.equal(buf[0], 0x83);
  assert.deepEqual([...buf.subarray(1, 4)], [0xa2, 0x74, 0x73]);
  assert.equal(buf[4], 0xcb);
  assert.equal(buf.readDoubleBE(5), 1789095808.25);
  const batch = raw.unpack(buf) as {
    ts: number;
    events: Record<string, unknown>[];
    data_parallel_rank: number;
  };
  assert.deepEqual(Object.keys(batch), ['ts', 'events', 'data_parallel_rank']);
  assert.deepEqual(Object.keys(batch.events[0]!), [
    'type',
    'block_hashes',
    'parent_block_hash',
    'token_ids',
    'block_size',
    'lora_id',
    'medium',
    'lora_name',
  ]);
  assert.deepEqual(batch.events[1], { type: 'BlockRemoved', block_hashes: [7], medium: 'GPU' });
  assert.deepEqual(batch.events[2], { type: 'AllBlocksCleared' });
  assert.equal(batch.data_parallel_rank, 0);
  // The 41-bit hash is a uint64, as msgspec writes an int that needs more than 32 bits.
  assert.ok(buf.includes(Buffer.from([0xcf, 0, 0, 1, 0, 0, 0, 0, 3])));
});

test('the older shapes: positional batch with map events (vLLM ≥ #42892), everything positional (≤ 0.23)', () => {
  const ev: SimKvEvent = { type: 'BlockRemoved', blockHashes: [5] };
  assert.deepEqual(raw.unpack(encodeKvEventBatch([ev], 2.5, { shape: 'array-batch' })), [
    2.5,
    [{ type: 'BlockRemoved', block_hashes: [5], medium: 'GPU' }],
    0,
  ]);
  assert.deepEqual(raw.unpack(encodeKvEventBatch([ev], 2.5, { shape: 'array' })), [
    2.5,
    [['BlockRemoved', [5], 'GPU']],
    0,
  ]);
});

test('seq frames are 8 bytes big-endian, −1 signed', () => {
  assert.deepEqual([...seqFrame(258)], [0, 0, 0, 0, 0, 0, 1, 2]);
  assert.deepEqual([...seqFrame(-1)], [255, 255, 255, 255, 255, 255, 255, 255]);
});
