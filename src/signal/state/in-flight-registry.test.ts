import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { RouteEventSchema, RouteEvent_Kind } from '../../gen/infermesh/state/v1/state_pb.js';
import { createInFlightRegistry } from './in-flight-registry.ts';

const routed = (request: number) =>
  create(RouteEventSchema, {
    kind: RouteEvent_Kind.ROUTED,
    request: BigInt(request),
    endpointId: 'n/a',
    model: 'm',
  });

test("each router gets the others' events in order, never its own, and the routers it can hear", () => {
  const registry = createInFlightRegistry({ ttlMs: 100, now: () => 0 });
  const r1 = registry.join('r1');
  const r2 = registry.join('r2');
  const r3 = registry.join('r3');
  let pokes = 0;
  r2.onChange(() => pokes++);
  r1.report([routed(1)]);
  r3.report([routed(7)]);
  r1.report([routed(2), routed(3)]);
  assert.equal(pokes, 3);
  const got = r2.take().map((b) => [b.routerId, b.events.map((e) => Number(e.request))]);
  assert.deepEqual(got, [
    ['r1', [1]],
    ['r3', [7]],
    ['r1', [2, 3]],
  ]);
  assert.deepEqual(r2.take(), [], 'taken once');
  assert.deepEqual(
    r1.take().flatMap((b) => b.routerId),
    ['r3'],
  );
  assert.deepEqual(r2.others(), ['r1', 'r3']);
  r3.leave();
  assert.deepEqual(r2.others(), ['r1']);
  r3.report([routed(8)]);
  assert.deepEqual(r2.take(), [], 'a router that left is not relayed');
  registry.close();
});

test('a router silent past the TTL is dropped, and comes back with its next report', () => {
  let t = 0;
  const registry = createInFlightRegistry({ ttlMs: 100, now: () => t });
  const r1 = registry.join('r1');
  const r2 = registry.join('r2');
  t = 80;
  r2.report([]); // a heartbeat renews it
  t = 150;
  registry.expire();
  assert.deepEqual(r2.others(), [], 'r1 was not heard within 100 ms');
  r1.report([routed(1)]);
  assert.deepEqual([r1.others(), r2.others()], [['r2'], ['r1']], 'r1 is back, r2 still there');
  assert.deepEqual(
    r2.take().map((b) => b.routerId),
    ['r1'],
  );
  // A second stream of one router replaces the first: the old one's reports are ignored.
  const again = registry.join('r1');
  r1.report([routed(2)]);
  again.report([routed(3)]);
  assert.deepEqual(
    r2.take().flatMap((b) => b.events.map((e) => Number(e.request))),
    [3],
  );
  registry.close();
});
