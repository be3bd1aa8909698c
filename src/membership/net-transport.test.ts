import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import { createRealClock } from './clock.ts';
import { createNetTransport, type NetTransport } from './net-transport.ts';
import { createMember, type Member } from './swim.ts';

const FAST = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, leaveTimeoutMs: 2_000 };

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('three members over real UDP and TCP on loopback join through one seed and see a leave', async () => {
  const transports: NetTransport[] = [];
  const members: Member[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const t = await createNetTransport({ host: '127.0.0.1', port: 0 });
      transports.push(t);
      members.push(createMember({ id: `n${i}`, transport: t, clock: createRealClock(), config: FAST }));
    }
    const seed = transports[0]!.address;
    assert.equal(await members[1]!.join([seed]), 1);
    assert.equal(await members[2]!.join([seed]), 1);
    const alive = (m: Member) => m.members().filter((x) => x.status === 'alive').length;
    await until(() => members.every((m) => alive(m) === 3), 5_000, 'all three alive everywhere');

    await members[2]!.leave();
    const statusOf = (m: Member, id: string) => m.members().find((x) => x.id === id)?.status;
    await until(
      () => statusOf(members[0]!, 'n2') === 'left' && statusOf(members[1]!, 'n2') === 'left',
      5_000,
      'n2 left',
    );
  } finally {
    for (const m of members) m.close();
    await Promise.all(transports.map((t) => t.close()));
  }
});

test('garbage datagrams and oversized or cut reliable frames are dropped; the member keeps working', async () => {
  const t = await createNetTransport({ host: '127.0.0.1', port: 0, maxReliableBytes: 1024 });
  const member = createMember({ id: 'solo', transport: t, clock: createRealClock(), config: FAST });
  const [host, port] = [t.address.split(':')[0]!, Number(t.address.split(':')[1])];
  try {
    const udp = createSocket('udp4');
    for (let i = 0; i < 50; i++) udp.send(Buffer.from(`not a packet ${i}`), port, host);
    await until(() => member.stats().badPackets === 50, 5_000, '50 bad packets counted');
    udp.close();

    // A frame announcing 1 GiB is cut at once; one cut short is never delivered.
    for (const bytes of [Buffer.from([0x40, 0, 0, 0, 1, 2, 3]), Buffer.from([0, 0, 0, 9, 1, 2])]) {
      await new Promise<void>((resolve) => {
        const c = createConnection({ host, port }, () => c.end(bytes));
        c.on('error', () => resolve());
        c.on('close', () => resolve());
        c.resume();
      });
    }
    assert.equal(member.stats().badPackets, 50, 'nothing of the cut frames reached the member');

    const done = await new Promise<Error | undefined>((r) =>
      t.sendReliable('127.0.0.1:1', new Uint8Array(4), r),
    );
    assert.ok(done instanceof Error, 'a reliable send to a closed port fails');
    assert.equal(member.members().length, 1);
  } finally {
    member.close();
    await t.close();
  }
});
