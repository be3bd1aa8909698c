/**
 * Tenant API keys: their format, the hash the control store keeps and the check routers make.
 *
 * A key reads `im_<key_id>_<secret>`: `key_id` (16 hex digits) is public, names the stored record and
 * lets a router find it with one map lookup; `secret` is 32 random bytes in base64url. The store
 * keeps SHA-256(salt ‖ secret) with a random salt per key, never the secret. A fast hash is the
 * industry practice for such keys (GitHub, Stripe and AWS do the same): bcrypt/scrypt/argon2 exist to
 * slow the guessing of low-entropy passwords, while guessing 256 random bits is out of reach at any
 * speed, and a slow hash would cost every inference request milliseconds of CPU. The salt only keeps
 * two records from ever sharing a hash. Comparison is in constant time.
 *
 * Here in `core` because the control plane makes keys and the data plane checks them, and neither
 * may import the other.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What every key starts with: recognisable in logs and by secret scanners. */
export const API_KEY_PREFIX = 'im_';
const KEY_ID = /^[0-9a-f]{16}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** A new key: the whole key to hand out once, and what the store keeps of it. */
export interface NewApiKey {
  id: string;
  /** `im_<id>_<secret>`: shown once, never stored. */
  key: string;
  salt: string;
  hash: string;
}

/** The stored half of a key: enough to check one, useless to forge one. */
export interface ApiKeyHash {
  salt: string;
  hash: string;
}

/** A new random key (`random` is injectable for tests). */
export function newApiKey(random: (bytes: number) => Buffer = randomBytes): NewApiKey {
  const id = random(8).toString('hex');
  const secret = random(32).toString('base64url');
  const salt = random(16).toString('base64url');
  return { id, key: `${API_KEY_PREFIX}${id}_${secret}`, salt, hash: hashSecret(salt, secret) };
}

/** SHA-256(salt ‖ secret), base64url. */
export function hashSecret(salt: string, secret: string): string {
  return createHash('sha256').update(Buffer.from(salt, 'base64url')).update(secret).digest('base64url');
}

/** The key's id and secret, or undefined when it is not a key of this format. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  if (!key.startsWith(API_KEY_PREFIX)) return undefined;
  const rest = key.slice(API_KEY_PREFIX.length);
  const cut = rest.indexOf('_');
  if (cut < 0) return undefined;
  const id = rest.slice(0, cut);
  const secret = rest.slice(cut + 1);
  return KEY_ID.test(id) && SECRET.test(secret) ? { id, secret } : undefined;
}

/** True when `secret` is the one `stored` was made from (constant time in the secret). */
export function verifySecret(stored: ApiKeyHash, secret: string): boolean {
  const expected = Buffer.from(stored.hash, 'base64url');
  const actual = Buffer.from(hashSecret(stored.salt, secret), 'base64url');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
