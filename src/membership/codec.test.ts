import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../core/errors.ts';
import {
  decodeJsonMeta,
  decodePacket,
  encodeHeader,
  encodeJsonMeta,
  encodeMessage,
  encodePacket,
  joinPacket,
  type Message,
} from './codec.ts';
import { createReader, createWriter } from './wire.ts';
import { createSeededRandom } from './random.ts';

const meta = encodeJsonMeta({ role: 'gpu', zone: 'eu-1', gpus: 8 });

const samples: Message[] = [
  { type: 'ping', seq: 1, target: 'node-b' },
  { type: 'ping', seq: 2 ** 40, target: '' },
  { type: 'ack', seq: 127 },
  { type: 'nack', seq: 128 },
  { type: 'ping-req', seq: 9, target: 'node-c', targetAddress: '10.0.0.3:7946', nack: true, timeoutMs: 400 },
  { type: 'ping-req', seq: 10, target: 'c', targetAddress: 'c:1', nack: false, timeoutMs: 0 },
  { type: 'suspect', incarnation: 3, id: 'node-c', from: 'node-a' },
  { type: 'alive', incarnation: Number.MAX_SAFE_INTEGER, id: 'nœud-ü', address: '[::1]:7946', meta },
  { type: 'alive', incarnation: 0, id: 'x', address: 'x:1', meta: new Uint8Array(0) },
  { type: 'dead', incarnation: 4, id: 'node-c', from: 'node-b' },
  { type: 'left', incarnation: 5, id: 'node-d' },
  {
    type: 'push-pull',
    seq: 77,
    join: true,
    reply: false,
    members: [
      { id: 'a', address: 'a:7946', incarnation: 1, status: 'alive', meta },
      { id: 'b', address: 'b:7946', incarnation: 2, status: 'suspect', meta: new Uint8Array(0) },
      { id: 'c', address: 'c:7946', incarnation: 3, status: 'dead', meta: new Uint8Array([0, 255]) },
      { id: 'd', address: 'd:7946', incarnation: 4, status: 'left', meta: new Uint8Array(0) },
    ],
  },
  { type: 'push-pull', seq: 78, join: false, reply: true, members: [] },
];

test('every message round-trips, alone and packed together', () => {
  for (const m of samples) {
    const p = decodePacket(encodePacket('node-a', '10.0.0.1:7946', [m]));
    assert.equal(p.from, 'node-a');
    assert.equal(p.fromAddress, '10.0.0.1:7946');
    assert.deepEqual(p.messages, [m]);
  }
  const all = decodePacket(encodePacket('a', 'a:1', samples));
  assert.deepEqual(all.messages, samples);
  assert.equal(all.unknown, 0);
  // Compact: a ping with its header is a few dozen bytes.
  assert.ok(encodePacket('node-a', '10.0.0.1:7946', [samples[0]!]).byteLength < 40);
  assert.deepEqual(decodeJsonMeta(meta), { role: 'gpu', zone: 'eu-1', gpus: 8 });
  assert.equal(decodeJsonMeta(new Uint8Array([0xff])), undefined);
});

test('unknown message types are skipped, appended fields ignored (forward compatibility)', () => {
  const w = createWriter();
  w.u8(200); // a future type
  w.bytes(new Uint8Array([1, 2, 3]));
  const future = w.finish();
  const ack = encodeMessage({ type: 'ack', seq: 5 });
  // An ack body with an extra trailing field a newer version might add.
  const longer = new Uint8Array([ack[0]!, 2, 5, 99]);
  const p = decodePacket(joinPacket(encodeHeader('a', 'a:1'), [future, ack, longer]));
  assert.equal(p.unknown, 1);
  assert.deepEqual(p.messages, [
    { type: 'ack', seq: 5 },
    { type: 'ack', seq: 5 },
  ]);
});

test('varints keep every safe integer and refuse beyond', () => {
  for (const v of [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]) {
    const w = createWriter(1);
    w.varint(v);
    assert.equal(createReader(w.finish()).varint(), v);
  }
  assert.throws(() => createWriter().varint(-1), MeshError);
  assert.throws(() => createWriter().varint(2 ** 53), MeshError);
  assert.throws(
    () => createReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1])).varint(),
    MeshError,
  );
  assert.throws(
    () => createReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).varint(),
    MeshError,
  );
});

test('malformed packets throw MeshError(invalid_request), never anything else', () => {
  const isMalformed = (err: unknown) => err instanceof MeshError && err.code === 'invalid_request';
  const good = encodePacket('node-a', 'a:7946', samples);
  const cases = [
    new Uint8Array(0),
    new Uint8Array([0x49]),
    new Uint8Array([1, 2, 3, 4]),
    Uint8Array.of(...good.subarray(0, 2), 2, ...good.subarray(3)), // another version
    joinPacket(encodeHeader('a', 'a:1'), [new Uint8Array([1, 50, 0])]), // body longer than the packet
    joinPacket(encodeHeader('a', 'a:1'), [new Uint8Array([6, 3, 1, 0, 0])]), // alive with an empty id
    joinPacket(encodeHeader('a', 'a:1'), [new Uint8Array([9, 4, 1, 0, 0xff, 0x7f])]), // push-pull count lies
    joinPacket(encodeHeader('a', 'a:1'), [new Uint8Array([1, 3, 1, 1, 0xc3])]), // invalid UTF-8
  ];
  for (const c of cases) assert.throws(() => decodePacket(c), isMalformed);
  // Every truncation either decodes (it ended between messages) or throws MeshError.
  for (let n = 0; n < good.byteLength; n++)
    try {
      decodePacket(good.subarray(0, n));
    } catch (err) {
      assert.ok(isMalformed(err), String(err));
    }
  // Fuzz: random bytes, and valid packets with random bytes changed.
  const random = createSeededRandom(7);
  let decoded = 0;
  for (let i = 0; i < 5_000; i++) {
    let buf: Uint8Array;
    if (i % 2 === 0)
      buf = Uint8Array.from({ length: Math.floor(random() * 200) }, () => (random() * 256) | 0);
    else {
      buf = good.slice();
      for (let k = 1 + Math.floor(random() * 4); k > 0; k--)
        buf[Math.floor(random() * buf.length)] = (random() * 256) | 0;
    }
    try {
      decodePacket(buf);
      decoded++;
    } catch (err) {
      assert.ok(isMalformed(err), String(err));
    }
  }
  assert.ok(decoded > 0); // some mutations stay valid (a changed seq or incarnation)
});

test('names over 255 bytes are refused when encoding', () => {
  assert.throws(() => encodeHeader('x'.repeat(256), 'a:1'), MeshError);
  assert.throws(() => encodeMessage({ type: 'left', incarnation: 1, id: 'é'.repeat(128) }), MeshError);
});
