import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { F64, packMsgspec } from './msgpack-writer.ts';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });
const hex = (b: Buffer) => b.toString('hex');

test('integers take the smallest format, unsigned when non-negative, as msgspec writes them', () => {
  const cases: [number | bigint, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65536, 'ce00010000'],
    [2 ** 32, 'cf0000000100000000'],
    [15760518052499183552n, ''], // past 2^53: checked by round trip
    [-1, 'ff'],
    [-32, 'e0'],
    [-33, 'd0df'],
    [-129, 'd1ff7f'],
    [-32769, 'd2ffff7fff'],
    [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
  ];
  for (const [v, want] of cases) {
    if (typeof v === 'bigint') assert.equal(unpackr.unpack(packMsgspec(v)), v);
    else assert.equal(hex(packMsgspec(v)), want, String(v));
  }
  assert.equal(hex(packMsgspec(new F64(2))), 'cb4000000000000000');
  assert.equal(hex(packMsgspec(1.5)), 'cb3ff8000000000000');
});

test('headers grow past fix sizes: str8, array16, map16', () => {
  assert.equal(hex(packMsgspec('a'.repeat(32)).subarray(0, 2)), 'd920');
  assert.equal(hex(packMsgspec(new Array<number>(16).fill(0)).subarray(0, 3)), 'dc0010');
  const map = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]));
  assert.equal(hex(packMsgspec(map).subarray(0, 3)), 'de0010');
  assert.equal(hex(packMsgspec(Buffer.from([1, 2]))), 'c4020102');
});

test('whatever the value, msgpackr reads back what was written', () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.string(),
      fc.array(tie('v'), { maxLength: 20 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie('v'), { maxKeys: 20 }),
    ),
  })).v;
  fc.assert(
    fc.property(value, (v) => {
      const norm = (x: unknown): unknown =>
        typeof x === 'bigint' && Number.isSafeInteger(Number(x)) && BigInt(Number(x)) === x
          ? Number(x)
          : Array.isArray(x)
            ? x.map(norm)
            : x !== null && typeof x === 'object'
              ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, norm(y)]))
              : x;
      assert.deepEqual(norm(unpackr.unpack(packMsgspec(v as never))), norm(v));
    }),
    { numRuns: 300 },
  );
});
