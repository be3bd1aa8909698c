/**
 * The membership wire format: compact, binary, versioned, and safe to feed garbage.
 *
 * A packet (one datagram, or one message of the reliable channel) is
 * `'I' 'M' version(1) · str senderId · str senderAddress · message*`, and each message is
 * `u8 type · varint bodyLength · body`. Messages run to the end of the packet, so a sender packs
 * as many piggybacked broadcasts as fit. Numbers are unsigned LEB128 varints, strings and byte
 * strings are length-prefixed. A message of an unknown type is skipped (counted), and bytes after a
 * known body's fields are ignored: a newer peer may append fields or types without breaking an
 * older one. Anything else malformed throws a `MeshError` with code `invalid_request`.
 *
 * Bodies (types in `MESSAGE_TYPES`):
 * - ping: seq, target id ('' = whoever answers)
 * - ack: seq · nack: seq
 * - ping-req: seq, target id, target address, flags (1 = send a nack), timeout ms for the relay
 * - suspect: incarnation, id, from · dead: incarnation, id, from · left: incarnation, id
 * - alive: incarnation, id, address, meta
 * - push-pull: seq, flags (1 = join, 2 = reply), count, then per member:
 *   id, address, incarnation, u8 status (0 alive, 1 suspect, 2 dead, 3 left), meta
 */
import { createReader, createWriter, malformed, type Reader, type Writer } from './wire.ts';
import { MeshError } from '../core/errors.ts';

/** What a member is, as every node's table says. */
export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

export interface PingMessage {
  type: 'ping';
  seq: number;
  /** The id the sender means to reach; a node answers only a ping for itself or for ''. */
  target: string;
}
export interface AckMessage {
  type: 'ack';
  seq: number;
}
export interface NackMessage {
  type: 'nack';
  seq: number;
}
export interface PingReqMessage {
  type: 'ping-req';
  seq: number;
  target: string;
  targetAddress: string;
  /** The requester wants a nack when the relay hears nothing (Lifeguard). */
  nack: boolean;
  /** How long the relay waits for the target's ack before it nacks (ms). */
  timeoutMs: number;
}
export interface SuspectMessage {
  type: 'suspect';
  incarnation: number;
  id: string;
  /** Who suspects: distinct `from`s are the independent confirmations that shorten suspicion. */
  from: string;
}
export interface AliveMessage {
  type: 'alive';
  incarnation: number;
  id: string;
  address: string;
  meta: Uint8Array;
}
export interface DeadMessage {
  type: 'dead';
  incarnation: number;
  id: string;
  from: string;
}
export interface LeftMessage {
  type: 'left';
  incarnation: number;
  id: string;
}
/** One member as the push-pull exchange carries it. */
export interface MemberRecord {
  id: string;
  address: string;
  incarnation: number;
  status: MemberStatus;
  meta: Uint8Array;
}
export interface PushPullMessage {
  type: 'push-pull';
  /** Pairs a reply with its request. */
  seq: number;
  join: boolean;
  reply: boolean;
  members: MemberRecord[];
}

export type Message =
  | PingMessage
  | AckMessage
  | NackMessage
  | PingReqMessage
  | SuspectMessage
  | AliveMessage
  | DeadMessage
  | LeftMessage
  | PushPullMessage;

export interface Packet {
  /** The sender's member id. */
  from: string;
  /** The sender's advertised address: replies go there. */
  fromAddress: string;
  messages: Message[];
  /** Messages of types this version does not know, skipped. */
  unknown: number;
}

/** Wire codes of the message types. Never renumber: add. */
export const MESSAGE_TYPES = {
  ping: 1,
  ack: 2,
  'ping-req': 3,
  nack: 4,
  suspect: 5,
  alive: 6,
  dead: 7,
  left: 8,
  'push-pull': 9,
} as const satisfies Record<Message['type'], number>;

const TYPE_BY_CODE = new Map<number, Message['type']>(
  Object.entries(MESSAGE_TYPES).map(([k, v]) => [v, k as Message['type']]),
);

const STATUSES: readonly MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

/** Protocol version carried in every packet. */
export const PROTOCOL_VERSION = 1;
const MAGIC0 = 0x49; // 'I'
const MAGIC1 = 0x4d; // 'M'

/** Longest member id or address (UTF-8 bytes). */
export const MAX_NAME_BYTES = 255;
/** Longest meta a packet may carry (the member's own limit, `maxMetaBytes`, is smaller). */
export const MAX_WIRE_META_BYTES = 65_536;

const encoder = new TextEncoder();

function name(w: Writer, s: string, what: string): void {
  const b = encoder.encode(s);
  if (b.byteLength > MAX_NAME_BYTES)
    throw new MeshError('invalid_request', `${what} over ${MAX_NAME_BYTES} bytes`, {
      [what]: s.slice(0, 64),
    });
  w.bytes(b);
}

function body(w: Writer, m: Message): void {
  switch (m.type) {
    case 'ping':
      w.varint(m.seq);
      name(w, m.target, 'target');
      return;
    case 'ack':
    case 'nack':
      w.varint(m.seq);
      return;
    case 'ping-req':
      w.varint(m.seq);
      name(w, m.target, 'target');
      name(w, m.targetAddress, 'address');
      w.u8(m.nack ? 1 : 0);
      w.varint(Math.max(0, Math.round(m.timeoutMs)));
      return;
    case 'suspect':
    case 'dead':
      w.varint(m.incarnation);
      name(w, m.id, 'id');
      name(w, m.from, 'from');
      return;
    case 'alive':
      w.varint(m.incarnation);
      name(w, m.id, 'id');
      name(w, m.address, 'address');
      w.bytes(m.meta);
      return;
    case 'left':
      w.varint(m.incarnation);
      name(w, m.id, 'id');
      return;
    case 'push-pull':
      w.varint(m.seq);
      w.u8((m.join ? 1 : 0) | (m.reply ? 2 : 0));
      w.varint(m.members.length);
      for (const r of m.members) {
        name(w, r.id, 'id');
        name(w, r.address, 'address');
        w.varint(r.incarnation);
        w.u8(STATUSES.indexOf(r.status));
        w.bytes(r.meta);
      }
      return;
  }
}

/** One framed message (`type · length · body`), ready to append to a packet. */
export function encodeMessage(m: Message): Uint8Array {
  const b = createWriter(m.type === 'push-pull' ? 256 : 48);
  body(b, m);
  const content = b.finish();
  const w = createWriter(content.byteLength + 6);
  w.u8(MESSAGE_TYPES[m.type]);
  w.bytes(content);
  return w.finish();
}

/** The header every packet from one sender starts with; encode it once and reuse it. */
export function encodeHeader(from: string, fromAddress: string): Uint8Array {
  const w = createWriter(from.length + fromAddress.length + 8);
  w.u8(MAGIC0);
  w.u8(MAGIC1);
  w.u8(PROTOCOL_VERSION);
  name(w, from, 'id');
  name(w, fromAddress, 'address');
  return w.finish();
}

/** A packet of already framed messages behind an encoded header. */
export function joinPacket(header: Uint8Array, messages: readonly Uint8Array[]): Uint8Array {
  let n = header.byteLength;
  for (const m of messages) n += m.byteLength;
  const out = new Uint8Array(n);
  out.set(header, 0);
  let at = header.byteLength;
  for (const m of messages) {
    out.set(m, at);
    at += m.byteLength;
  }
  return out;
}

/** Encodes a whole packet. */
export function encodePacket(from: string, fromAddress: string, messages: readonly Message[]): Uint8Array {
  return joinPacket(encodeHeader(from, fromAddress), messages.map(encodeMessage));
}

const id = (r: Reader) => {
  const s = r.str(MAX_NAME_BYTES);
  if (s === '') throw malformed('empty member id');
  return s;
};
const address = (r: Reader) => {
  const s = r.str(MAX_NAME_BYTES);
  if (s === '') throw malformed('empty address');
  return s;
};

function decodeBody(type: Message['type'], r: Reader): Message {
  switch (type) {
    case 'ping':
      return { type, seq: r.varint(), target: r.str(MAX_NAME_BYTES) };
    case 'ack':
    case 'nack':
      return { type, seq: r.varint() };
    case 'ping-req': {
      const seq = r.varint();
      const target = id(r);
      const targetAddress = address(r);
      const flags = r.u8();
      return { type, seq, target, targetAddress, nack: (flags & 1) !== 0, timeoutMs: r.varint() };
    }
    case 'suspect':
    case 'dead':
      return { type, incarnation: r.varint(), id: id(r), from: id(r) };
    case 'alive':
      return {
        type,
        incarnation: r.varint(),
        id: id(r),
        address: address(r),
        meta: r.bytes(MAX_WIRE_META_BYTES),
      };
    case 'left':
      return { type, incarnation: r.varint(), id: id(r) };
    case 'push-pull': {
      const seq = r.varint();
      const flags = r.u8();
      const count = r.varint();
      // Each record takes at least 5 bytes: a count beyond that is a lie, refuse before allocating.
      if (count * 5 > r.remaining()) throw malformed(`push-pull count ${count} beyond the packet`);
      const members: MemberRecord[] = [];
      for (let i = 0; i < count; i++) {
        const mid = id(r);
        const addr = address(r);
        const incarnation = r.varint();
        const status = STATUSES[r.u8()];
        if (!status) throw malformed('unknown member status');
        members.push({ id: mid, address: addr, incarnation, status, meta: r.bytes(MAX_WIRE_META_BYTES) });
      }
      return { type, seq, join: (flags & 1) !== 0, reply: (flags & 2) !== 0, members };
    }
  }
}

/** Decodes a packet; throws a `MeshError` (`invalid_request`) on anything malformed. */
export function decodePacket(buf: Uint8Array): Packet {
  const r = createReader(buf);
  if (buf.byteLength < 3 || r.u8() !== MAGIC0 || r.u8() !== MAGIC1) throw malformed('bad magic');
  const version = r.u8();
  if (version !== PROTOCOL_VERSION) throw malformed(`unsupported version ${version}`);
  const from = id(r);
  const fromAddress = address(r);
  const messages: Message[] = [];
  let unknown = 0;
  while (r.remaining() > 0) {
    const code = r.u8();
    const len = r.varint();
    const start = r.offset;
    r.view(len); // bounds check: the body lies inside the packet
    const type = TYPE_BY_CODE.get(code);
    if (!type) {
      unknown++;
      continue;
    }
    messages.push(decodeBody(type, createReader(buf, start, start + len)));
  }
  return { from, fromAddress, messages, unknown };
}

/** Meta as JSON (UTF-8), for node metadata that is a small object. */
export function encodeJsonMeta(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Reads meta written by `encodeJsonMeta`; `undefined` when it is empty or not JSON. */
export function decodeJsonMeta(meta: Uint8Array): unknown {
  if (meta.byteLength === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(meta)) as unknown;
  } catch {
    return undefined;
  }
}
