/**
 * A small msgpack writer that encodes as msgspec does (what vLLM's KV events are written with):
 * the smallest integer format for the value (unsigned formats for non-negative integers, uint64
 * above 2^32), floats always as float64, the smallest str/array/map header. msgpackr writes large
 * integers as float64 and small maps as map16, which a strict (typed msgspec) decoder rejects.
 */

/** A number to write as float64 even when it is integral (Python `float`). */
export class F64 {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** What the writer takes: JSON-like values, bigint, byte strings and `F64`. */
export type MsgValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | F64
  | readonly MsgValue[]
  | { readonly [key: string]: MsgValue };

class Out {
  buf = Buffer.alloc(256);
  len = 0;
  need(n: number) {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number) {
    this.need(1);
    this.buf[this.len++] = b;
  }
  header(small: number, smallMax: number, codes: readonly [number, number, number], n: number) {
    if (n <= smallMax) return this.byte(small | n);
    if (codes[0] !== 0 && n < 0x100) {
      this.byte(codes[0]);
      return this.byte(n);
    }
    this.need(5);
    if (n < 0x10000) {
      this.buf[this.len++] = codes[1];
      this.buf.writeUInt16BE(n, this.len);
      this.len += 2;
    } else {
      this.buf[this.len++] = codes[2];
      this.buf.writeUInt32BE(n, this.len);
      this.len += 4;
    }
  }
}

/** Integer formats, smallest first: [code, byte length, lowest value, highest value]. */
const INT_FORMATS: readonly [number, number, bigint, bigint][] = [
  [0xcc, 1, 0n, 0xffn],
  [0xcd, 2, 0n, 0xffffn],
  [0xce, 4, 0n, 0xffffffffn],
  [0xcf, 8, 0n, 0xffffffffffffffffn],
  [0xd0, 1, -0x80n, -1n],
  [0xd1, 2, -0x8000n, -1n],
  [0xd2, 4, -0x80000000n, -1n],
  [0xd3, 8, -0x8000000000000000n, -1n],
];

function writeInt(o: Out, v: bigint | number): void {
  const n = BigInt(v);
  if (n >= -32n && n < 128n) return o.byte(Number(n) & 0xff); // positive / negative fixint
  const f = INT_FORMATS.find(([, , lo, hi]) => n >= lo && n <= hi);
  if (!f) throw new RangeError(`integer out of msgpack range: ${n}`);
  const [code, len] = f;
  o.need(len + 1);
  o.buf[o.len++] = code;
  for (let i = len - 1; i >= 0; i--) {
    o.buf[o.len + i] = Number(BigInt.asUintN(8, n >> BigInt(8 * (len - 1 - i))));
  }
  o.len += len;
}

function write(o: Out, v: MsgValue): void {
  if (v === null) return o.byte(0xc0);
  if (v === true) return o.byte(0xc3);
  if (v === false) return o.byte(0xc2);
  if (typeof v === 'bigint') return writeInt(o, v);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return writeInt(o, v);
    v = new F64(v);
  }
  if (v instanceof F64) {
    o.need(9);
    o.buf[o.len++] = 0xcb;
    o.buf.writeDoubleBE(v.value, o.len);
    o.len += 8;
    return;
  }
  if (typeof v === 'string') {
    const bytes = Buffer.from(v, 'utf8');
    o.header(0xa0, 31, [0xd9, 0xda, 0xdb], bytes.length);
    o.need(bytes.length);
    bytes.copy(o.buf, o.len);
    o.len += bytes.length;
    return;
  }
  if (v instanceof Uint8Array) {
    o.header(0, -1, [0xc4, 0xc5, 0xc6], v.length);
    o.need(v.length);
    o.buf.set(v, o.len);
    o.len += v.length;
    return;
  }
  if (Array.isArray(v)) {
    const a = v as readonly MsgValue[];
    o.header(0x90, 15, [0, 0xdc, 0xdd], a.length);
    for (const x of a) write(o, x);
    return;
  }
  const entries = Object.entries(v as { readonly [key: string]: MsgValue });
  o.header(0x80, 15, [0, 0xde, 0xdf], entries.length);
  for (const [k, x] of entries) {
    write(o, k);
    write(o, x);
  }
}

/** Encodes `v` as msgspec would. */
export function packMsgspec(v: MsgValue): Buffer {
  const o = new Out();
  write(o, v);
  return o.buf.subarray(0, o.len);
}
