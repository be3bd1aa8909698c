import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInFlightRegistry } from './in-flight-registry.ts';

const load = (inFlight: number) => [
  { endpointId: 'n/a', model: 'm', inFlight, inFlightTokens: 0, sentRequests: inFlight, sentWork: 0 },
];

test('reports replace each other per router, leave out the asker, and expire after the TTL', () => {
  let t = 0;
  const registry = createInFlightRegistry({ ttlMs: 100, now: () => t });
  let changes = 0;
  registry.watch(() => changes++);
  registry.report('r1', load(1));
  registry.report('r2', load(2));
  registry.report('r1', load(3));
  assert.equal(changes, 3);
  assert.deepEqual(
    registry.reports('r2').map((r) => [r.routerId, r.endpoints[0]!.inFlight]),
    [['r1', 3]],
  );
  t = 80;
  registry.report('r2', load(2)); // renewed
  t = 150;
  assert.deepEqual(
    registry.reports().map((r) => r.routerId),
    ['r2'],
    'r1 was not renewed within 100 ms',
  );
  registry.drop('r2');
  assert.deepEqual(registry.reports(), []);
  registry.close();
});
