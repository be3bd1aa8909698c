// Membership events over real SWIM members on the in-memory network: a node cut off is reported
// dead once, by the lowest alive member, and reported back when the partition heals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMember, createRealClock, createSeededRandom } from '../membership/index.ts';
import { createMemoryNetwork } from '../membership/testing/memory-transport.ts';
import type { EventType } from '../control/model/names.ts';
import { recordMembershipEvents } from './control-events.ts';
import { meshMembers } from './membership-role.ts';

// Not the fastest timings: on a busy machine those make a and b suspect each other now and then.
const timing = { probeIntervalMs: 200, probeTimeoutMs: 150, suspicionMult: 3, gossipIntervalMs: 50 };

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a death and a return are recorded once, by the lowest alive member of each side', async (t) => {
  const net = createMemoryNetwork({ clock: createRealClock(), random: createSeededRandom(3) });
  const recorded: Array<{ by: string; type: EventType; node: string; reason: string }> = [];
  const members = ['a', 'b', 'c'].map((id) => {
    const member = createMember({
      id,
      transport: net.connect(`${id}:1`),
      clock: createRealClock(),
      config: timing,
    });
    t.after(() => member.close());
    const role = { member, members: () => meshMembers(member) };
    t.after(
      recordMembershipEvents(role, id, async (type, data) => {
        recorded.push({ by: id, type, node: data.node ?? '', reason: data.reason ?? '' });
      }),
    );
    return member;
  });
  await members[1]!.join(['a:1']);
  await members[2]!.join(['a:1']);
  await until('three alive everywhere', () =>
    members.every((m) => m.members().filter((x) => x.status === 'alive').length === 3),
  );

  net.partition(['c:1'], ['a:1', 'b:1']);
  await until('a to find c dead', () => members[0]!.member('c')?.status === 'dead');
  await until('b to find c dead', () => members[1]!.member('c')?.status === 'dead');
  net.heal();
  await until('c back for a', () => members[0]!.member('c')?.status === 'alive');
  await until('the return recorded', () => recorded.some((e) => e.type === 'node_joined'));

  const mainSide = recorded.filter((e) => e.by !== 'c' && e.node === 'c');
  assert.deepEqual(mainSide, [
    { by: 'a', type: 'node_left', node: 'c', reason: 'dead' },
    { by: 'a', type: 'node_joined', node: 'c', reason: 'rejoined' },
  ]);
  // Cut off, c was its own side's lowest alive member: it reported the others (its view).
  assert.ok(recorded.filter((e) => e.by === 'c').every((e) => e.node === 'a' || e.node === 'b'));
});
