import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeKvEventBatch, KvDecodeError } from './decode.ts';
import { encodeKvEventBatch, type KvWireShape, type SimKvEvent } from '../../../../sim/kv-events.ts';

// Hand-built msgpack, byte by byte, as msgspec writes it.
const bytes = (...parts: (number | number[] | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(typeof p === 'number' ? [p] : p))));
const str = (s: string) => bytes(0xa0 | s.length, Buffer.from(s));
const u64 = (n: bigint) => {
  const b = Buffer.alloc(9);
  b[0] = 0xcf;
  b.writeBigUInt64BE(n, 1);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(5);
  b[0] = 0xce;
  b.writeUInt32BE(n, 1);
  return b;
};
const f64 = (x: number) => {
  const b = Buffer.alloc(9);
  b[0] = 0xcb;
  b.writeDoubleBE(x, 1);
  return b;
};
const NIL = 0xc0;
const TOKENS = [
  151644, 872, 198, 9064, 374, 279, 6722, 315, 5616, 30, 151645, 198, 151644, 77091, 198, 151667,
];
// 16 ids: an array16 header (fixarray stops at 15); each id in its smallest unsigned format.
const tokenArray = () =>
  bytes(
    [0xdc, 0, TOKENS.length],
    ...TOKENS.map((t) =>
      t < 128
        ? Buffer.from([t])
        : t < 0x100
          ? bytes(0xcc, t)
          : t < 0x10000
            ? bytes(0xcd, [t >> 8, t & 255])
            : u32(t),
    ),
  );

/** vLLM v0.26's batch as a subscriber captured it: positional batch, one map-tagged BlockStored. */
const V026 = bytes(
  0x93,
  f64(1789095808.8378847),
  0x91,
  0x8b, // 11 entries: kv_cache_spec_sliding_window (None, its default) is left out
  str('type'),
  str('BlockStored'),
  str('block_hashes'),
  0x91,
  u64(15760518052499183552n),
  str('parent_block_hash'),
  NIL,
  str('token_ids'),
  tokenArray(),
  str('block_size'),
  16,
  str('lora_id'),
  NIL,
  str('medium'),
  str('GPU'),
  str('lora_name'),
  NIL,
  str('extra_keys'),
  0x91,
  NIL,
  str('group_idx'),
  0,
  str('kv_cache_spec_kind'),
  bytes(0xae, Buffer.from('full_attention')),
  0, // data_parallel_rank
);

test('reads a vLLM 0.26 batch byte for byte; a 64-bit hash past 2^53 stays exact', () => {
  const b = decodeKvEventBatch(V026);
  assert.equal(b.ts, 1789095808.8378847);
  assert.equal(b.dataParallelRank, 0);
  assert.equal(b.skipped, 0);
  assert.deepEqual(b.events, [
    {
      type: 'BlockStored',
      blockHashes: [`i${15760518052499183552n.toString(16)}`],
      parentBlockHash: null,
      tokenIds: TOKENS,
      blockSize: 16,
      medium: 'GPU',
      groupIdx: 0,
    },
  ]);
});

test('reads the positional events of vLLM ≤ 0.23 (array_like=True) and the all-map batch of current vLLM', () => {
  // [ts, [["BlockStored", [h], parent, tokens, 16, lora_id, medium], ["BlockRemoved", [h], medium], ["AllBlocksCleared"]]]
  const legacy = bytes(
    0x92,
    f64(12.5),
    0x93,
    bytes(0x97, str('BlockStored'), 0x91, u64(2n ** 63n + 1n), u64(99n), tokenArray(), 16, NIL, str('GPU')),
    bytes(0x93, str('BlockRemoved'), 0x91, u64(2n ** 63n + 1n), str('GPU')),
    bytes(0x91, str('AllBlocksCleared')),
  );
  const b = decodeKvEventBatch(legacy);
  assert.equal(b.dataParallelRank, null);
  assert.deepEqual(
    b.events.map((e) => e.type),
    ['BlockStored', 'BlockRemoved', 'AllBlocksCleared'],
  );
  const s = b.events[0]!;
  assert.ok(s.type === 'BlockStored' && s.parentBlockHash === 99 && s.tokenIds.length === 16);
  // Current vLLM: {ts, events, data_parallel_rank}, events maps; hashes may be bytes (sha256).
  const sha = Buffer.alloc(32, 0xab);
  const current = bytes(
    0x83,
    str('ts'),
    f64(3.25),
    str('events'),
    0x91,
    bytes(
      0x83,
      str('type'),
      str('BlockRemoved'),
      str('block_hashes'),
      0x91,
      0xc4,
      32,
      sha,
      str('medium'),
      str('GPU'),
    ),
    bytes(0xb2, Buffer.from('data_parallel_rank')),
    2,
  );
  const c = decodeKvEventBatch(current);
  assert.equal(c.dataParallelRank, 2);
  assert.deepEqual(c.events, [
    { type: 'BlockRemoved', blockHashes: [`b${sha.toString('hex')}`], medium: 'GPU', groupIdx: null },
  ]);
});

test('unknown or malformed events are skipped and counted; a batch that is not one throws KvDecodeError', () => {
  const b = decodeKvEventBatch(
    bytes(
      0x92,
      f64(1),
      0x93,
      bytes(0x81, str('type'), str('Future')),
      0x2a,
      bytes(0x91, str('AllBlocksCleared')),
    ),
  );
  assert.deepEqual(b.events, [{ type: 'AllBlocksCleared' }]);
  assert.equal(b.skipped, 2);
  for (const garbage of [
    Buffer.from([0xc1]),
    Buffer.from('hello'),
    bytes(0x2a),
    bytes(0x91, 0x2a),
    Buffer.alloc(0),
  ]) {
    assert.throws(() => decodeKvEventBatch(garbage), KvDecodeError);
  }
});

test('whatever the bytes, decoding returns a batch or throws KvDecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (buf) => {
      try {
        decodeKvEventBatch(buf);
      } catch (err) {
        assert.ok(err instanceof KvDecodeError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
});

test('the simulator’s three shapes round-trip through the decoder', () => {
  const events: SimKvEvent[] = [
    {
      type: 'BlockStored',
      blockHashes: [2 ** 50 + 1, 3],
      parentBlockHash: 7,
      tokenIds: [1, 2, 3, 4],
      blockSize: 2,
    },
    { type: 'BlockRemoved', blockHashes: [3] },
    { type: 'AllBlocksCleared' },
  ];
  for (const shape of ['map', 'array-batch', 'array'] satisfies KvWireShape[]) {
    const b = decodeKvEventBatch(encodeKvEventBatch(events, 100.5, { shape }));
    assert.equal(b.ts, 100.5);
    assert.deepEqual(
      b.events,
      [
        {
          type: 'BlockStored',
          blockHashes: [2 ** 50 + 1, 3],
          parentBlockHash: 7,
          tokenIds: [1, 2, 3, 4],
          blockSize: 2,
          medium: 'GPU',
          groupIdx: null,
        },
        { type: 'BlockRemoved', blockHashes: [3], medium: 'GPU', groupIdx: null },
        { type: 'AllBlocksCleared' },
      ],
      shape,
    );
  }
});
