// The key format, its salted hash and the constant-time check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSecret, newApiKey, parseApiKey, verifySecret } from './api-key.ts';

test('a new key reads im_<16 hex>_<43 base64url> and parses back to its id and secret', () => {
  const k = newApiKey();
  assert.match(k.key, /^im_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const parsed = parseApiKey(k.key);
  assert.equal(parsed?.id, k.id);
  assert.equal(`im_${k.id}_${parsed?.secret}`, k.key);
  assert.notEqual(newApiKey().key, k.key);
});

test('the store keeps a salted hash that verifies the secret and nothing else', () => {
  const k = newApiKey();
  const secret = parseApiKey(k.key)!.secret;
  assert.ok(!k.hash.includes(secret) && !JSON.stringify(k.hash).includes(secret));
  assert.ok(verifySecret(k, secret));
  assert.ok(!verifySecret(k, secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A')));
  assert.ok(!verifySecret(k, ''));
  // Same secret, other salt: other hash.
  assert.notEqual(hashSecret('AAAA', secret), hashSecret('AAAB', secret));
  assert.ok(!verifySecret({ salt: k.salt, hash: 'short' }, secret));
});

test('anything not of the format is no key', () => {
  const k = newApiKey();
  for (const bad of [
    '',
    'im_',
    'sk-abc',
    k.key.slice(3),
    `im_${k.id}`,
    `im_${k.id}_short`,
    `im_XYZ_${'a'.repeat(43)}`,
  ])
    assert.equal(parseApiKey(bad), undefined, bad);
});

test('injected randomness gives a deterministic key', () => {
  const zeros = (n: number) => Buffer.alloc(n);
  const k = newApiKey(zeros);
  assert.equal(k.key, `im_0000000000000000_${'A'.repeat(43)}`);
  assert.ok(verifySecret(k, 'A'.repeat(43)));
});
