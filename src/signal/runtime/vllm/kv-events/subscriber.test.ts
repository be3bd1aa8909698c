import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as zmq from 'zeromq';
import { chainPrefixKeys } from '../../../../core/prefix-keys.ts';
import { tokenIds } from '../../../../core/tokens.ts';
import { createKvEventPublisher } from '../../../../sim/kv-event-publisher.ts';
import { encodeKvEventBatch, seqFrame, type SimKvEvent } from '../../../../sim/kv-events.ts';
import { createSimServer } from '../../../../sim/server.ts';
import { createEndpointBlockState } from './block-state.ts';
import { createKvEventSubscriber } from './subscriber.ts';

const block = (i: number) => Array.from({ length: 4 }, (_, t) => i * 100 + t);
const stored = (hash: number, parent: number | null, i: number): SimKvEvent => ({
  type: 'BlockStored',
  blockHashes: [hash],
  parentBlockHash: parent,
  tokenIds: block(i),
  blockSize: 4,
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

test('a subscriber joining late replays from seq 0 and then follows live batches', async () => {
  const pub = await createKvEventPublisher({ port: 0 });
  // Published before anyone listens: only the replay socket has them.
  pub.publish([stored(10, null, 0)]);
  pub.publish([stored(11, 10, 1)]);
  await sleep(100); // sent (and dropped by PUB, nobody subscribed) before the subscriber exists
  const state = createEndpointBlockState();
  const sub = createKvEventSubscriber({ endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint!, state });
  sub.start();
  try {
    // PUB/SUB joins asynchronously: keep publishing until the subscriber hears a live batch.
    let i = 2;
    await until(() => {
      if (sub.lastSeq() < 0 && i < 200) pub.publish([stored(10 + i, 10 + i - 1, i++)]);
      return sub.lastSeq() >= 0;
    });
    await until(() => sub.lastSeq() === pub.sent() - 1);
    const chain = Array.from({ length: pub.sent() }, (_, j) => block(j)).flat();
    assert.deepEqual([...state.keys()], chainPrefixKeys(chain, 4));
    assert.equal(sub.counters().gaps, 1);
    assert.ok(sub.counters().replayed >= 2);
    assert.equal(sub.counters().resets, 0);
    assert.equal(state.rebuilding(), false);
  } finally {
    await sub.stop();
    await pub.close();
  }
});

test('without a replay socket a gap clears the set and marks it rebuilding', async () => {
  const pub = await createKvEventPublisher({ port: 0, replayPort: null });
  pub.publish([stored(1, null, 0)]); // lost: nobody listens yet
  await sleep(100);
  const state = createEndpointBlockState();
  const sub = createKvEventSubscriber({ endpoint: pub.endpoint, state });
  sub.start();
  try {
    let i = 1;
    await until(() => {
      if (sub.lastSeq() < 0) pub.publish([stored(100 + i, null, i++)]);
      return sub.lastSeq() >= 0;
    });
    assert.equal(sub.counters().resets, 1);
    assert.equal(state.rebuilding(), true);
    const before = state.keys().size;
    pub.publish([stored(999, null, 99)]);
    await until(() => state.keys().size === before + 1);
  } finally {
    await sub.stop();
    await pub.close();
  }
});

test('garbage frames are counted and dropped; the stream goes on', async () => {
  const raw = new zmq.Publisher({ linger: 0 });
  await raw.bind('tcp://127.0.0.1:0');
  const state = createEndpointBlockState();
  const sub = createKvEventSubscriber({ endpoint: raw.lastEndpoint!, state });
  sub.start();
  try {
    const good = (seq: number) => ['', seqFrame(seq), encodeKvEventBatch([stored(seq + 1, null, seq)], 1)];
    // Wait for the subscription to take: seq 0 will be heard eventually.
    for (let tries = 0; sub.lastSeq() !== 0; tries++) {
      assert.ok(tries < 500, 'the subscriber never heard seq 0');
      await raw.send(good(0));
      await sleep(10);
    }
    await raw.send(['', 'short']); // two frames
    await raw.send(['', Buffer.from([1, 2, 3]), 'x']); // a seq that is not 8 bytes
    await raw.send(['', seqFrame(1), Buffer.from([0xc1, 0xff])]); // not msgpack
    await raw.send(['', seqFrame(2), encodeKvEventBatch([], 1).subarray(0, 3)]); // cut short
    await raw.send(good(3));
    await until(() => sub.lastSeq() === 3);
    assert.equal(sub.counters().garbage, 4);
    assert.equal(state.keys().size, 2);
  } finally {
    await sub.stop();
    raw.close();
  }
});

test('a simulator with kvEvents publishes the blocks of a completion, keyed as the router keys the prompt', async () => {
  const sim = await createSimServer({ kvEvents: { port: 0, topic: 'kv' }, timeScale: 50 });
  const state = createEndpointBlockState();
  const sub = createKvEventSubscriber({
    endpoint: sim.kvEvents!.endpoint,
    replayEndpoint: sim.kvEvents!.replayEndpoint!,
    topic: 'kv',
    state,
  });
  sub.start();
  try {
    await sleep(200); // let the subscription reach the publisher (a miss is replayed anyway)
    const prompt = 'The quick brown fox jumps over the lazy dog. '.repeat(8); // 360 bytes: 90 tokens
    const res = await fetch(`${sim.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-llama-3-8b', prompt, max_tokens: 2 }),
    });
    assert.equal(res.status, 200);
    await res.json();
    const router = chainPrefixKeys(tokenIds(prompt), 16);
    assert.equal(router.length, 5);
    await until(() => state.keys().size === router.length);
    assert.deepEqual([...state.keys()], router);
    // vLLM's /reset_prefix_cache: AllBlocksCleared empties the set.
    await fetch(`${sim.url}/reset_prefix_cache`, { method: 'POST' });
    await until(() => state.keys().size === 0);
    assert.equal(state.counters().cleared, 1);
  } finally {
    await sub.stop();
    await sim.close();
  }
});
