import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGossipSecurity, createKeyring, generateGossipKey, SEAL_OVERHEAD } from './keyring.ts';
import { createSimCluster, type SimCluster } from './testing/sim-cluster.ts';
import type { Keyring } from './keyring.ts';
import { isLoopbackHost } from '../core/listen.ts';

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const K3 = Buffer.alloc(32, 3).toString('base64');
const bytes = (s: string) => new TextEncoder().encode(s);
const code = (c: string) => (err: Error & { code?: string }) => err.code === c;

test('seal and open: version, random nonce, tag; any installed key opens, tampering never does', () => {
  const ring = createKeyring([K1]);
  const plain = bytes('hello membership');
  const a = ring.seal(plain);
  const b = ring.seal(plain);
  assert.equal(a.byteLength, plain.byteLength + SEAL_OVERHEAD);
  assert.equal(SEAL_OVERHEAD, 29);
  assert.equal(a[0], 1);
  assert.notDeepEqual(a, b, 'fresh nonce per packet');
  assert.deepEqual(ring.open(a), plain);
  // Every single flipped bit (version, nonce, ciphertext, tag) is refused.
  for (let i = 0; i < a.byteLength; i++) {
    const t = a.slice();
    t[i]! ^= 0x01;
    assert.equal(ring.open(t), undefined, `byte ${i}`);
  }
  assert.equal(ring.open(a.subarray(0, a.byteLength - 1)), undefined, 'truncated');
  assert.equal(ring.open(new Uint8Array(3)), undefined);
  assert.equal(createKeyring([K2]).open(a), undefined, 'other key');
  // A ring holding the key among others opens it; sealing uses its own primary.
  const both = createKeyring([K2, K1]);
  assert.deepEqual(both.open(a), plain);
  assert.equal(ring.open(both.seal(plain)), undefined);
  assert.deepEqual(createKeyring([K2]).open(both.seal(plain)), plain);
  assert.deepEqual(createKeyring([K1]).open(createKeyring([K1]).seal(new Uint8Array(0))), new Uint8Array(0));
});

test('keys are validated; rotation: install, use, remove (never the primary)', () => {
  assert.throws(() => createKeyring([]), code('invalid_config'));
  assert.throws(() => createKeyring(['short']), code('invalid_config'));
  assert.throws(() => createKeyring([Buffer.alloc(16).toString('base64')]), code('invalid_config'));
  assert.throws(() => createKeyring([`${K1.slice(0, -2)}!=`]), code('invalid_config'));
  assert.equal(Buffer.from(generateGossipKey(), 'base64').byteLength, 32);
  const ring = createKeyring([K1, K2, K1]);
  assert.deepEqual(ring.keys(), [K1, K2]);
  ring.install(K3);
  ring.install(K3);
  assert.deepEqual(ring.keys(), [K1, K2, K3]);
  ring.use(K3);
  assert.equal(ring.primary(), K3);
  assert.deepEqual(ring.keys(), [K3, K1, K2]);
  assert.throws(() => ring.remove(K3), code('invalid_request'));
  ring.remove(K1);
  assert.deepEqual(ring.keys(), [K3, K2]);
  assert.throws(() => ring.remove(K1), code('invalid_request'));
  assert.throws(() => ring.use(K1), code('invalid_request'));
});

test('checkGossipSecurity: a key or explicit insecure is needed off loopback', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
    assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.77.0.1', '128.0.0.1', 'example.com', '127.0.0.1.nip.io'])
    assert.ok(!isLoopbackHost(h), h);
  checkGossipSecurity({ host: '127.0.0.1' });
  checkGossipSecurity({ host: '10.77.0.1', keyring: createKeyring([K1]) });
  checkGossipSecurity({ host: '10.77.0.1', insecure: true });
  assert.throws(
    () => checkGossipSecurity({ host: '0.0.0.0' }),
    (err: Error & { code?: string }) => err.code === 'invalid_config' && /keyring/.test(err.message),
  );
  assert.throws(() => checkGossipSecurity({ host: '10.77.0.1', insecure: false }), code('invalid_config'));
});

async function keyed(ids: readonly string[], rings: Record<string, Keyring | undefined>, seed: number) {
  const c = createSimCluster({ seed });
  for (const id of ids) c.add(id, { keyring: rings[id] });
  return c;
}

const sum = (c: SimCluster, ids: readonly string[], k: 'unauthenticated' | 'badPackets') =>
  ids.reduce((s, id) => s + c.members.get(id)!.stats()[k], 0);

test('members sharing a key form a cluster; a member with another key or none is ignored and counted', async () => {
  const ids = ['a', 'b', 'c'];
  const c = await keyed(
    [...ids, 'x', 'y'],
    { a: createKeyring([K1]), b: createKeyring([K1]), c: createKeyring([K1, K2]), x: createKeyring([K3]) },
    11,
  );
  for (const id of ['b', 'c']) assert.equal(await c.join(id, ['a']), 1);
  assert.ok(c.runUntil(() => c.agree(ids, ids, 'alive'), 10_000) !== undefined, 'converges');
  // x (wrong key) and y (no key) cannot join: their push-pull is dropped, never answered.
  await assert.rejects(c.join('x', ['a']), code('unavailable'));
  await assert.rejects(c.join('y', ['b']), code('unavailable'));
  const before = sum(c, ids, 'unauthenticated');
  assert.ok(before >= 2, `${before}`);
  c.run(30_000);
  for (const id of ids) {
    assert.deepEqual(
      c.members
        .get(id)!
        .members()
        .map((m) => m.id)
        .sort(),
      ids,
    );
  }
  assert.equal(c.members.get('x')!.members().length, 1);
  assert.equal(c.members.get('y')!.members().length, 1);
  assert.equal(sum(c, ids, 'badPackets'), 0);
});

test('key rotation across a live cluster: install everywhere, use everywhere, remove the old one', async () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const rings = Object.fromEntries(ids.map((id) => [id, createKeyring([K1])]));
  const c = await keyed(ids, rings, 12);
  for (const id of ids.slice(1)) assert.equal(await c.join(id, ['a']), 1);
  assert.ok(c.runUntil(() => c.agree(ids, ids, 'alive'), 10_000) !== undefined, 'converges');
  const t0 = c.clock.now();
  // One member at a time, with gossip flowing in between: the ring always holds what peers seal with.
  const step = (fn: (ring: Keyring) => void) => {
    for (const id of ids) {
      fn(rings[id]!);
      c.run(3_000);
    }
  };
  step((r) => r.install(K2));
  step((r) => r.use(K2));
  step((r) => r.remove(K1));
  c.run(30_000);
  assert.ok(c.agree(ids, ids, 'alive'));
  assert.deepEqual(
    c.events.filter((e) => e.at >= t0),
    [],
    'no suspicion during the rotation',
  );
  assert.equal(sum(c, ids, 'unauthenticated'), 0);
  // The old key no longer gets in.
  const old = createKeyring([K1]);
  c.add('z', { keyring: old });
  await assert.rejects(c.join('z', ['a']), code('unavailable'));
  assert.ok(sum(c, ids, 'unauthenticated') > 0);
});

test('sealing fits the 1,400-byte datagram budget: big gossip bursts never exceed it', async () => {
  const ids = Array.from({ length: 40 }, (_, i) => `member-with-a-long-name-${i}`);
  const ring = createKeyring([K1]);
  const c = createSimCluster({ seed: 13, network: { maxPacketBytes: 1_400 } });
  for (const id of ids) c.add(id, { keyring: ring, meta: new Uint8Array(200).fill(7) });
  for (const id of ids.slice(1)) await c.join(id, [ids[0]!]);
  assert.ok(c.runUntil(() => c.agree(ids, ids, 'alive'), 30_000) !== undefined, 'converges');
  // The memory network drops datagrams over its limit and counts them: none was.
  for (const id of ids) assert.equal(c.network.stats(c.addressOf(id)).packetsDropped, 0, id);
  assert.equal(sum(c, ids, 'unauthenticated'), 0);
});
