import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimCluster, type SimCluster } from './testing/sim-cluster.ts';

async function cluster(ids: readonly string[], seed: number, c: SimCluster = createSimCluster({ seed })) {
  for (const id of ids) c.add(id);
  for (const id of ids.slice(1)) assert.equal(await c.join(id, [ids[0]!]), 1);
  assert.ok(c.runUntil(() => c.agree(ids, ids, 'alive'), 10_000) !== undefined, 'converges');
  return c;
}

/** Partitions `left` from `right`, waits until each side holds the other dead, plus `holdMs`, then heals. */
async function partitionAndHeal(seed: number, holdMs: number) {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const left = ['a', 'b'];
  const right = ['c', 'd', 'e'];
  const c = await cluster(ids, seed);
  c.run(5_000);
  c.network.partition(left.map(c.addressOf), right.map(c.addressOf));
  const split = c.runUntil(() => c.agree(left, right, 'dead') && c.agree(right, left, 'dead'), 60_000);
  assert.ok(split !== undefined, 'each side finds the other dead');
  // Each side stays healthy within itself.
  assert.ok(c.agree(left, left, 'alive') && c.agree(right, right, 'alive'));
  c.run(holdMs);
  const incarnations = ids.map((id) => c.members.get(id)!.member(id)!.incarnation);
  c.network.heal();
  const healed = c.runUntil(() => c.agree(ids, ids, 'alive'), 120_000);
  assert.ok(healed !== undefined, 'heals');
  // Everyone came back by refuting the other side's verdict: a higher incarnation for all.
  ids.forEach((id, i) => assert.ok(c.members.get(id)!.member(id)!.incarnation > incarnations[i]!, id));
  c.run(30_000);
  assert.ok(c.agree(ids, ids, 'alive'), 'stays converged');
  for (const m of c.members.values()) assert.equal(m.stats().handlerErrors, 0);
  return { c, healed };
}

test('a partition (2 | 3) healed as soon as each side holds the other dead converges back', async () => {
  const { c, healed } = await partitionAndHeal(5, 0);
  // Gossip to the recently dead and reconnect push-pulls, whichever comes first.
  assert.ok(healed <= c.members.get('a')!.config.reconnectIntervalMs + 5_000, `${healed} ms`);
  // Each of 5 sees the other side come back (2·3 + 3·2); a stale verdict crossing the healed link
  // may also kill a member on its own side for a moment, until it refutes.
  const back = c.events.filter((e) => e.event.type === 'join' && e.event.previous === 'dead');
  assert.ok(back.length >= 12, `${back.length}`);
});

test('a partition (2 | 3) held a minute heals through reconnect push-pulls with dead members', async () => {
  const { c, healed } = await partitionAndHeal(6, 60_000);
  const { reconnectIntervalMs } = c.members.get('a')!.config;
  // Gossip to the dead stopped long ago: one reconnect round (each member tries one dead member
  // every interval) is what brings the sides together.
  assert.ok(healed <= reconnectIntervalMs + 5_000, `${healed} ms`);
});

test('~30 members at 5% datagram loss for 2 minutes: suspicions refuted, nobody falsely dead', async () => {
  const n = 30;
  const ids = Array.from({ length: n }, (_, i) => `n${i}`);
  // Datagrams only (no reliable probe fallback), so loss reaches the failure detector.
  const c = createSimCluster({
    seed: 2,
    network: { delayMs: 2, jitterMs: 3 },
    config: { reliableProbeFallback: false },
  });
  await cluster(ids, 2, c);
  c.network.setLoss(0.05);
  const t0 = c.clock.now();
  c.run(120_000);
  const events = c.events.filter((e) => e.at >= t0);
  assert.deepEqual(
    events.filter((e) => e.event.type === 'dead' || e.event.type === 'leave'),
    [],
  );
  const stats = [...c.members.values()].map((m) => m.stats());
  const sum = (k: keyof (typeof stats)[number]) => stats.reduce((s, x) => s + x[k], 0);
  // Loss did cause suspicions, and every one was refuted (one may still be open at the end).
  assert.ok(events.some((e) => e.event.type === 'suspect'));
  assert.ok(sum('refutations') > 0);
  c.network.setLoss(0);
  c.run(30_000);
  assert.ok(c.agree(ids, ids, 'alive'));
  assert.ok(sum('probes') > n * 100, `${sum('probes')} probes`);
  assert.equal(sum('handlerErrors'), 0);
  // Traffic stays modest: under 200 bytes/s per member, all included.
  const bytes = c.network.total().bytesSent + c.network.total().reliableBytesSent;
  assert.ok(bytes / n / 150 < 200, `${bytes / n / 150} B/s per member`);
});
