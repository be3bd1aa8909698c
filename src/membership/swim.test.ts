import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimCluster, type SimCluster } from './testing/sim-cluster.ts';
import { decodeJsonMeta, encodeJsonMeta } from './codec.ts';
import { suspicionTimeoutMs } from './config.ts';
import { createSeededRandom } from './random.ts';

/** A cluster of `ids`, every member joined through the first, run until all see all alive. */
async function cluster(ids: readonly string[], seed: number): Promise<SimCluster> {
  const c = createSimCluster({ seed });
  for (const id of ids) c.add(id, { meta: encodeJsonMeta({ name: id }) });
  for (const id of ids.slice(1)) assert.equal(await c.join(id, [ids[0]!]), 1);
  assert.ok(c.runUntil(() => c.agree(ids, ids, 'alive'), 10_000) !== undefined, 'converges');
  return c;
}

const eventsOf = (c: SimCluster, since: number, type?: string) =>
  c.events.filter((e) => e.at >= since && (type === undefined || e.event.type === type));

test('three members join through one seed and all see each other alive, with their meta', async () => {
  const ids = ['a', 'b', 'c'];
  const c = await cluster(ids, 1);
  for (const o of ids) {
    const view = c.members.get(o)!.members();
    assert.deepEqual(view.map((m) => m.id).sort(), ids);
    for (const m of view) {
      assert.equal(m.status, 'alive');
      assert.equal(m.incarnation, 1);
      assert.equal(m.address, c.addressOf(m.id));
      assert.deepEqual(decodeJsonMeta(m.meta), { name: m.id });
    }
  }
  // Each member reported the two others joining, once.
  for (const o of ids)
    assert.deepEqual(
      c.events
        .filter((e) => e.observer === o)
        .map((e) => `${e.event.type} ${e.event.member.id}`)
        .sort(),
      ids.filter((x) => x !== o).map((x) => `join ${x}`),
    );
  // Quiet afterwards: no suspicion in a minute of a healthy network.
  const t = c.clock.now();
  c.run(60_000);
  assert.deepEqual(eventsOf(c, t), []);
  for (const m of c.members.values()) assert.equal(m.health(), 0);
});

test('join fails cleanly when no seed answers', async () => {
  const c = createSimCluster({ seed: 2, config: { joinTimeoutMs: 2_000 } });
  c.add('a');
  await assert.rejects(
    c.join('a', ['nobody']),
    (err: Error & { code?: string }) => err.code === 'unavailable',
  );
  assert.equal(await c.members.get('a')!.join([]), 0);
});

test('a killed member is found dead by everyone in time, sooner thanks to confirmations', async () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const c = await cluster(ids, 3);
  c.run(5_000);
  const t0 = c.clock.now();
  c.network.setDown(c.addressOf('e'), true);
  const took = c.runUntil(() => c.agree(['a', 'b', 'c', 'd'], ['e'], 'dead'), 60_000, 50);
  assert.ok(took !== undefined, 'detected');
  const { probeIntervalMs, suspicionMult, suspicionMaxTimeoutMult } = c.members.get('a')!.config;
  const max = suspicionMaxTimeoutMult * suspicionTimeoutMs(suspicionMult, ids.length, probeIntervalMs);
  // Each survivor probes e within two rounds of n − 1 probes (the order is reshuffled each round),
  // and its suspicion lasts at most max = β·min.
  const worst = (2 * (ids.length - 1) + 1) * probeIntervalMs + max;
  assert.ok(took <= worst, `${took} ms`);
  // Lifeguard: the others' confirmations cut the suspicion well short of its maximum.
  const firstSuspect = c.events.find((e) => e.at >= t0 && e.event.type === 'suspect')!.at;
  const firstDead = c.events.find((e) => e.at >= t0 && e.event.type === 'dead')!.at;
  assert.ok(firstDead - firstSuspect < max / 2, `suspected ${firstDead - firstSuspect} ms`);
  // Everyone went through suspect, then dead; nobody else was touched.
  const seen = eventsOf(c, t0).filter((e) => e.observer !== 'e');
  assert.ok(seen.every((e) => e.event.member.id === 'e'));
  for (const o of ['a', 'b', 'c', 'd']) {
    const mine = seen.filter((e) => e.observer === o).map((e) => e.event.type);
    assert.deepEqual(mine, ['suspect', 'dead']);
  }
});

test('a member slow to answer for a moment is suspected, refutes, and stays alive', async () => {
  const ids = ['a', 'b', 'c'];
  const c = await cluster(ids, 11);
  c.run(5_000);
  const t0 = c.clock.now();
  // c answers 1.5 s late (longer than a whole probe interval) for 4 s.
  c.network.setEgressDelay(c.addressOf('c'), 1_500);
  let healthWhileSlow = 0;
  for (let t = 0; t < 4_000; t += 100) {
    c.run(100);
    healthWhileSlow = Math.max(healthWhileSlow, c.members.get('c')!.health());
  }
  c.network.setEgressDelay(c.addressOf('c'), 0);
  c.run(30_000);
  const events = eventsOf(c, t0);
  assert.ok(
    events.some((e) => e.event.type === 'suspect' && e.event.member.id === 'c'),
    'c was suspected',
  );
  assert.deepEqual(eventsOf(c, t0, 'dead'), []);
  assert.ok(c.agree(ids, ids, 'alive'));
  // c refuted: everyone holds it at a higher incarnation, and its own health score had risen
  // (the relays' nacks it waited for came too late), so it slowed its own probing down.
  assert.ok(c.members.get('c')!.stats().refutations >= 1);
  for (const o of ['a', 'b']) assert.ok(c.members.get(o)!.member('c')!.incarnation >= 2);
  assert.ok(healthWhileSlow > 0, `health ${healthWhileSlow}`);
  assert.equal(c.members.get('c')!.health(), 0); // and recovered
});

test('graceful leave: everyone marks the member left, not dead, and later forgets it', async () => {
  const ids = ['a', 'b', 'c', 'd'];
  const c = createSimCluster({ seed: 4, config: { reapAfterMs: 120_000 } });
  for (const id of ids) c.add(id);
  for (const id of ids.slice(1)) await c.join(id, ['a']);
  c.run(5_000);
  const t0 = c.clock.now();
  let done = false;
  const leaving = c.members
    .get('c')!
    .leave()
    .then(() => (done = true));
  c.run(2_000);
  await leaving;
  assert.ok(done);
  assert.ok(c.agree(['a', 'b', 'd'], ['c'], 'left'));
  c.run(60_000);
  assert.ok(c.agree(['a', 'b', 'd'], ['c'], 'left'), 'still left, never dead');
  assert.ok(c.agree(['a', 'b', 'd'], ['a', 'b', 'd'], 'alive'));
  const seen = eventsOf(c, t0);
  assert.deepEqual(seen.map((e) => `${e.observer} ${e.event.type} ${e.event.member.id}`).sort(), [
    'a leave c',
    'b leave c',
    'd leave c',
  ]);
  c.run(120_000);
  for (const o of ['a', 'b', 'd']) assert.equal(c.members.get(o)!.member('c'), undefined, 'reaped');
});

test('new meta spreads as an update with a higher incarnation', async () => {
  const ids = ['a', 'b', 'c'];
  const c = await cluster(ids, 6);
  const t0 = c.clock.now();
  c.members.get('a')!.setMeta(encodeJsonMeta({ name: 'a', gpus: 4 }));
  c.run(2_000);
  for (const o of ['b', 'c']) {
    const m = c.members.get(o)!.member('a')!;
    assert.equal(m.incarnation, 2);
    assert.deepEqual(decodeJsonMeta(m.meta), { name: 'a', gpus: 4 });
  }
  assert.deepEqual(
    eventsOf(c, t0)
      .map((e) => `${e.observer} ${e.event.type} ${e.event.member.id}`)
      .sort(),
    ['b update a', 'c update a'],
  );
  assert.throws(() => c.members.get('a')!.setMeta(new Uint8Array(10_000)));
});

test('a restarted member (same id, fresh state) rejoins over its own death', async () => {
  const ids = ['a', 'b', 'c'];
  const c = await cluster(ids, 8);
  c.network.setDown(c.addressOf('c'), true);
  assert.ok(c.runUntil(() => c.agree(['a', 'b'], ['c'], 'dead'), 30_000) !== undefined);
  const deadAt = c.members.get('a')!.member('c')!.incarnation;
  c.members.get('c')!.close();
  c.network.setDown(c.addressOf('c'), false);
  c.add('c'); // incarnation 1 again
  assert.equal(await c.join('c', ['b']), 1);
  assert.ok(c.runUntil(() => c.agree(ids, ids, 'alive'), 10_000) !== undefined);
  assert.ok(c.members.get('a')!.member('c')!.incarnation > deadAt);
  assert.ok(
    c.events.some((e) => e.observer === 'a' && e.event.type === 'join' && e.event.previous === 'dead'),
  );
});

test('garbage packets are dropped and counted; the member carries on', async () => {
  const ids = ['a', 'b'];
  const c = await cluster(ids, 9);
  const attacker = c.network.connect('evil:1');
  const random = createSeededRandom(99);
  for (let i = 0; i < 500; i++) {
    const junk = Uint8Array.from({ length: 3 + Math.floor(random() * 100) }, () => (random() * 256) | 0);
    if (i % 3 === 0) junk.set([0x49, 0x4d, 1]); // a valid magic and version, then noise
    attacker.send(c.addressOf('a'), junk);
    attacker.sendReliable(c.addressOf('a'), junk);
  }
  c.run(30_000);
  const s = c.members.get('a')!.stats();
  assert.ok(s.badPackets > 900, `${s.badPackets}`);
  assert.equal(s.handlerErrors, 0);
  assert.ok(c.agree(ids, ids, 'alive'));
});

test('a seeded run replays exactly', async () => {
  const run = async () => {
    const c = await cluster(['a', 'b', 'c', 'd'], 21);
    c.network.setLoss(0.1);
    c.network.setDown(c.addressOf('d'), true);
    c.run(40_000);
    return JSON.stringify(c.events.map((e) => [e.at, e.observer, e.event.type, e.event.member.id]));
  };
  assert.equal(await run(), await run());
});
