/**
 * Authenticated, encrypted gossip: a keyring of AES-256-GCM keys (memberlist's keyring, re-derived).
 * Every packet and every reliable message a member sends is sealed with the primary key; a received
 * one is opened with each installed key in turn, and one no key opens is dropped (and counted by
 * the member: `stats().unauthenticated`). Several keys make rotation possible without a partition:
 * install the new key everywhere, `use` it everywhere, then remove the old one.
 *
 * Sealed form: `version(1) · nonce(12, random) · ciphertext · tag(16)`, the version byte bound as
 * additional data, so a sealed packet is `SEAL_OVERHEAD` (29) bytes longer than the plain one.
 * Keys are given as base64 of 32 random bytes (`openssl rand -base64 32`, or `generateGossipKey()`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MeshError } from '../core/errors.ts';
import { isLoopbackHost } from '../core/listen.ts';

/** The sealed format's version byte. */
export const SEAL_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Bytes sealing adds to a packet: version, nonce and tag. */
export const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

export interface Keyring {
  /** Seals `plain` with the primary key. */
  seal(plain: Uint8Array): Uint8Array;
  /** Opens a sealed packet with any installed key; `undefined` when none authenticates it. */
  open(sealed: Uint8Array): Uint8Array | undefined;
  /** Installs `key` (base64) beside the others; a key already installed is left as it is. */
  install(key: string): void;
  /** Makes an installed `key` the primary one (what `seal` uses). */
  use(key: string): void;
  /** Removes `key`; the primary key cannot be removed (`use` another one first). */
  remove(key: string): void;
  /** The installed keys (base64), primary first. */
  keys(): string[];
  /** The primary key (base64). */
  primary(): string;
}

/** A fresh random key, base64 (for config files and tests). */
export function generateGossipKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function decodeKey(key: string): Buffer {
  const raw = typeof key === 'string' ? Buffer.from(key, 'base64') : Buffer.alloc(0);
  // Round-trip check: Buffer.from ignores stray characters, a typo must not pass as a shorter key.
  if (raw.byteLength !== KEY_BYTES || raw.toString('base64') !== key.trim())
    throw new MeshError('invalid_config', `gossip key must be base64 of ${KEY_BYTES} bytes (AES-256)`, {
      length: raw.byteLength,
    });
  return raw;
}

/** A keyring of `keys` (base64, 32 bytes each), the first one primary. */
export function createKeyring(keys: readonly string[]): Keyring {
  if (keys.length === 0) throw new MeshError('invalid_config', 'a gossip keyring needs at least one key');
  /** Installed keys by their canonical base64, primary first. */
  let ring: { id: string; raw: Buffer }[] = [];
  const add = (key: string) => {
    const raw = decodeKey(key);
    const id = raw.toString('base64');
    if (!ring.some((k) => k.id === id)) ring.push({ id, raw });
    return id;
  };
  for (const k of keys) add(k);
  const find = (key: string) => {
    const id = decodeKey(key).toString('base64');
    const i = ring.findIndex((k) => k.id === id);
    if (i < 0) throw new MeshError('invalid_request', 'gossip key is not installed');
    return i;
  };
  const version = Buffer.of(SEAL_VERSION);

  return {
    seal(plain) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', ring[0]!.raw, nonce);
      cipher.setAAD(version);
      const body = cipher.update(plain);
      const final = cipher.final();
      const out = new Uint8Array(SEAL_OVERHEAD + plain.byteLength);
      out[0] = SEAL_VERSION;
      out.set(nonce, 1);
      out.set(body, 1 + NONCE_BYTES);
      out.set(final, 1 + NONCE_BYTES + body.byteLength);
      out.set(cipher.getAuthTag(), out.byteLength - TAG_BYTES);
      return out;
    },
    open(sealed) {
      if (sealed.byteLength < SEAL_OVERHEAD || sealed[0] !== SEAL_VERSION) return undefined;
      const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
      const body = sealed.subarray(1 + NONCE_BYTES, sealed.byteLength - TAG_BYTES);
      const tag = sealed.subarray(sealed.byteLength - TAG_BYTES);
      for (const k of ring) {
        try {
          const d = createDecipheriv('aes-256-gcm', k.raw, nonce);
          d.setAAD(version);
          d.setAuthTag(tag);
          const a = d.update(body);
          const b = d.final();
          const out = new Uint8Array(a.byteLength + b.byteLength);
          out.set(a, 0);
          out.set(b, a.byteLength);
          return out;
        } catch {
          // Not this key (or tampered with): try the next one.
        }
      }
      return undefined;
    },
    install(key) {
      add(key);
    },
    use(key) {
      const i = find(key);
      const [k] = ring.splice(i, 1);
      ring = [k!, ...ring];
    },
    remove(key) {
      const i = find(key);
      if (i === 0)
        throw new MeshError('invalid_request', 'cannot remove the primary gossip key; use another first');
      ring.splice(i, 1);
    },
    keys: () => ring.map((k) => k.id),
    primary: () => ring[0]!.id,
  };
}

export interface GossipSecurityOptions {
  /** The address the membership transport binds (or advertises). */
  host: string;
  keyring?: Keyring | undefined;
  /** The operator's explicit consent to unauthenticated gossip off loopback. */
  insecure?: boolean | undefined;
}

/**
 * Refuses unauthenticated gossip on a non-loopback address: throws `invalid_config` unless a
 * keyring is configured, the host is loopback, or `insecure` is set.
 */
export function checkGossipSecurity(o: GossipSecurityOptions): void {
  if (o.keyring || o.insecure || isLoopbackHost(o.host)) return;
  throw new MeshError(
    'invalid_config',
    `membership would gossip unauthenticated on ${o.host}: configure a gossip keyring ` +
      '(AES-256 keys, base64) or set insecure to accept anyone who can reach the port',
    { host: o.host },
  );
}
