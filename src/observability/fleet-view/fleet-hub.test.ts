import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DecisionRecord } from '../../core/decision-record.ts';
import { createDecisionRing } from './decision-ring.ts';
import { createFleetHub, type StreamClient } from './fleet-hub.ts';
import { createSeriesSampler } from './series.ts';
import type { ControlEventRow, StreamHello } from './types.ts';

function client() {
  const got: Array<[string, unknown]> = [];
  const c: StreamClient & { got: typeof got; closed: boolean } = {
    got,
    closed: false,
    send: (event, data) => (got.push([event, data]), true),
    close: () => void (c.closed = true),
  };
  return c;
}

test('a viewer gets the hello, then fleet updates, decisions and events; decisions are recorded only while watched', async (t) => {
  const ring = createDecisionRing();
  const event: ControlEventRow = {
    revision: 3,
    type: 'node_joined',
    at: 1,
    source: 'n',
    data: { node: 'n' },
  };
  const hub = createFleetHub({
    sources: { node: 'n', nodes: () => [], models: () => [], gpus: () => [] },
    decisions: ring,
    sampler: createSeriesSampler({ read: async () => [] }),
    followEvents: async (onEvent, signal) => {
      onEvent(event); // the history, before the first hello
      setTimeout(() => onEvent({ ...event, revision: 4, type: 'gpu_quarantined' }), 50);
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    },
    version: 'test',
    intervalMs: 50,
  });
  t.after(() => hub.stop());
  assert.equal(ring.watching(), false);
  const viewer = client();
  const leave = hub.connect(viewer);
  assert.equal(ring.watching(), true);
  assert.equal(viewer.got[0]![0], 'hello');
  assert.equal((viewer.got[0]![1] as StreamHello).node, 'n');
  assert.deepEqual(
    (viewer.got[0]![1] as StreamHello).events.map((e) => e.revision),
    [3],
  );

  ring.decided({
    id: '0-1',
    requestId: 'r',
    at: 0,
    model: 'm',
    profile: 'p',
    kind: 'primary',
    worker: 0,
    candidates: 0,
    weights: {},
    top: [],
  });
  await new Promise((r) => setTimeout(r, 400));
  const kinds = viewer.got.map(([k]) => k);
  assert.equal((viewer.got.find(([k]) => k === 'control')![1] as ControlEventRow).revision, 4);
  assert.ok(kinds.filter((k) => k === 'fleet').length >= 2, kinds.join());
  const batch = viewer.got.find(([k]) => k === 'decisions')![1] as DecisionRecord[];
  assert.deepEqual(
    batch.map((d) => d.id),
    ['0-1'],
  );

  leave();
  assert.equal(ring.watching(), false);
  // A new viewer finds the recent events and decisions in its hello.
  const again = client();
  hub.connect(again);
  const hello = again.got[0]![1] as StreamHello;
  assert.deepEqual(
    hello.events.map((e) => e.revision),
    [3, 4],
  );
  assert.equal(hello.decisions.length, 1);
  assert.ok(hello.series.length >= 2);
});

test('a viewer that cannot keep up is dropped', () => {
  const ring = createDecisionRing();
  const hub = createFleetHub({
    sources: { node: 'n', nodes: () => [], models: () => [], gpus: () => [] },
    decisions: ring,
    sampler: createSeriesSampler({ read: async () => [] }),
    version: 'test',
  });
  const slow: StreamClient & { closed: boolean } = {
    closed: false,
    send: () => false,
    close: () => void (slow.closed = true),
  };
  hub.connect(slow);
  assert.equal(slow.closed, true);
  assert.equal(hub.viewers(), 0);
  assert.equal(ring.watching(), false);
  hub.stop();
});
