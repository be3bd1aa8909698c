import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVirtualClock } from '../clock.ts';
import { createMemoryNetwork } from './memory-transport.ts';
import { createSeededRandom } from '../random.ts';

function net(opts: { loss?: number; jitterMs?: number; tcpLossDelays?: boolean } = {}) {
  const clock = createVirtualClock();
  const network = createMemoryNetwork({ clock, random: createSeededRandom(5), delayMs: 2, ...opts });
  const got: Record<string, { at: number; from: string; data: number; reliable: boolean }[]> = {};
  const ends = Object.fromEntries(
    ['a', 'b', 'c'].map((id) => {
      const t = network.connect(id);
      got[id] = [];
      t.onReceive((p, info) => got[id]!.push({ at: clock.now(), data: p[0]!, ...info }));
      return [id, t];
    }),
  );
  return { clock, network, got, ends };
}

test('datagrams arrive after the delay, counted per node; the network copies what it carries', () => {
  const { clock, network, got, ends } = net();
  const buf = new Uint8Array([7, 7, 7]);
  ends.a!.send('b', buf);
  buf[0] = 9;
  clock.advance(1);
  assert.equal(got.b!.length, 0);
  clock.advance(1);
  assert.deepEqual(got.b, [{ at: 2, from: 'a', data: 7, reliable: false }]);
  assert.equal(network.stats('a').bytesSent, 3);
  assert.equal(network.stats('b').bytesReceived, 3);
  ends.a!.send('nowhere', buf);
  ends.a!.send('b', new Uint8Array(2_000)); // over maxPacketBytes
  clock.advance(10);
  assert.equal(network.stats('a').packetsDropped, 2);
  assert.throws(() => network.connect('a'));
});

test('seeded loss drops about the asked share, the same way every run', () => {
  const run = () => {
    const { clock, got, ends } = net({ loss: 0.2, jitterMs: 5 });
    for (let i = 0; i < 2_000; i++) ends.a!.send('b', new Uint8Array([i & 0xff]));
    clock.advance(100);
    return got.b!.map((x) => x.data);
  };
  const first = run();
  assert.ok(first.length > 1_500 && first.length < 1_700, `${first.length}`);
  assert.deepEqual(run(), first);
});

test('partitions, down nodes and slow nodes; the reliable channel fails visibly', () => {
  const { clock, network, got, ends } = net();
  network.partition(['a'], ['b', 'c']);
  ends.a!.send('b', new Uint8Array([1]));
  ends.b!.send('c', new Uint8Array([2]));
  const results: string[] = [];
  ends.a!.sendReliable('c', new Uint8Array([3]), (err) => results.push(err ? `fail@${clock.now()}` : 'ok'));
  clock.advance(2_000);
  assert.equal(got.b!.length, 0);
  assert.equal(got.c!.length, 1);
  assert.deepEqual(results, ['fail@1000']); // the connect timeout

  network.heal();
  network.setDown('c', true);
  ends.a!.sendReliable('c', new Uint8Array([4]), (err) =>
    results.push(err ? `refused@${clock.now()}` : 'ok'),
  );
  ends.c!.send('a', new Uint8Array([5])); // a down node sends nothing
  clock.advance(100);
  assert.deepEqual(results, ['fail@1000', 'refused@2004']);
  assert.equal(got.a!.length, 0);

  network.setDown('c', false);
  network.setEgressDelay('b', 500);
  ends.b!.send('a', new Uint8Array([6]));
  ends.b!.sendReliable('a', new Uint8Array([7]), (err) => results.push(err ? 'fail' : `ok@${clock.now()}`));
  clock.advance(1_000);
  assert.deepEqual(
    got.a!.map((x) => [x.data, x.at, x.reliable]),
    [
      [6, 2602, false],
      [7, 2602, true],
    ],
  );
  assert.deepEqual(results.at(-1), 'ok@2604');
});

test('tcpLossDelays: loss makes reliable messages late (lost SYN, SYN-ACK: 1 s each; data: 200 ms), never lost', () => {
  const late = (tcpLossDelays: boolean) => {
    const { clock, got, ends } = net({ loss: 0.5, tcpLossDelays });
    for (let i = 0; i < 200; i++) ends.a!.sendReliable('b', new Uint8Array([i]));
    clock.advance(5_000);
    assert.equal(got.b!.length, 200, 'all delivered');
    return got.b!.map((g) => g.at);
  };
  assert.ok(late(false).every((at) => at === 2));
  const at = late(true);
  // Each arrival is 2 ms plus a sum of retransmission timeouts; at 50% loss most are late.
  assert.ok(
    at.every((t) => [2, 202, 1002, 1202, 2002, 2202].includes(t)),
    `${[...new Set(at)].join()}`,
  );
  const share = at.filter((t) => t > 2).length / at.length;
  assert.ok(share > 0.75 && share < 0.99, `${share}`);
});
