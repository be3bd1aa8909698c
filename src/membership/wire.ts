/**
 * The byte-level reader and writer of the membership codec: unsigned LEB128 varints (up to 2^53−1,
 * so incarnations and sequence numbers stay plain numbers), length-prefixed byte strings and
 * UTF-8 strings. The reader throws a `MeshError` (`invalid_request`) on anything malformed.
 */
import { MeshError } from '../core/errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Thrown on a malformed packet: the receiver drops the packet and counts it. */
export function malformed(why: string): MeshError {
  return new MeshError('invalid_request', `malformed membership packet: ${why}`);
}

export interface Writer {
  u8(v: number): void;
  varint(v: number): void;
  bytes(b: Uint8Array): void;
  str(s: string): void;
  raw(b: Uint8Array): void;
  finish(): Uint8Array;
}

export function createWriter(initial = 64): Writer {
  let buf = new Uint8Array(initial);
  let len = 0;
  const room = (n: number) => {
    if (len + n <= buf.length) return;
    const next = new Uint8Array(Math.max(buf.length * 2, len + n));
    next.set(buf.subarray(0, len));
    buf = next;
  };
  const w: Writer = {
    u8(v) {
      room(1);
      buf[len++] = v & 0xff;
    },
    varint(v) {
      if (!Number.isSafeInteger(v) || v < 0) throw new MeshError('invalid_request', `not a varint: ${v}`);
      room(8);
      while (v >= 0x80) {
        buf[len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      buf[len++] = v;
    },
    bytes(b) {
      w.varint(b.byteLength);
      w.raw(b);
    },
    str(s) {
      w.bytes(encoder.encode(s));
    },
    raw(b) {
      room(b.byteLength);
      buf.set(b, len);
      len += b.byteLength;
    },
    finish: () => buf.slice(0, len),
  };
  return w;
}

export interface Reader {
  readonly offset: number;
  remaining(): number;
  u8(): number;
  varint(): number;
  /** A length-prefixed byte string of at most `max` bytes (a copy). */
  bytes(max: number): Uint8Array;
  /** A length-prefixed UTF-8 string of at most `max` bytes. */
  str(max: number): string;
  /** The next `n` raw bytes (a view). */
  view(n: number): Uint8Array;
}

/** A reader over `buf[start, end)`; a class, not closures: one is made per packet and per message. */
class WireReader implements Reader {
  private pos: number;
  private readonly buf: Uint8Array;
  private readonly end: number;
  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }
  get offset(): number {
    return this.pos;
  }
  remaining(): number {
    return this.end - this.pos;
  }
  private need(n: number): void {
    if (n > this.end - this.pos) throw malformed(`truncated at byte ${this.pos}`);
  }
  private length(max: number): number {
    const n = this.varint();
    if (n > max) throw malformed(`length ${n} over ${max}`);
    return n;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw malformed('varint out of range');
        return result;
      }
      mul *= 0x80;
    }
    throw malformed('varint too long');
  }
  bytes(max: number): Uint8Array {
    return this.view(this.length(max)).slice();
  }
  str(max: number): string {
    const v = this.view(this.length(max));
    // Member ids and addresses are short and ASCII: skip the decoder for them.
    if (v.byteLength <= 64) {
      let ascii = true;
      for (let i = 0; i < v.byteLength; i++) if (v[i]! >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode(...v);
    }
    try {
      return decoder.decode(v);
    } catch {
      throw malformed('invalid UTF-8');
    }
  }
  view(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

export function createReader(buf: Uint8Array, start = 0, end = buf.byteLength): Reader {
  return new WireReader(buf, start, end);
}
