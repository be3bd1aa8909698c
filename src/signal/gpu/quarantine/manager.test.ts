import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../core/config.ts';
import type { GpuState } from '../../../core/gpu.ts';
import { createQuarantine, type QuarantineEntry, type ReleaseEvent } from './manager.ts';

const policy = (over: Record<string, unknown> = {}) =>
  parseConfig({ apiVersion: 'infermesh/v1', gpu: { quarantine: over } }).gpu.quarantine;

const gpu = (over: Partial<GpuState> = {}): GpuState => ({
  uuid: 'GPU-a',
  index: 0,
  name: 'H100',
  node: 'n1',
  temperatureC: 50,
  eccVolatileUncorrected: 0,
  throttleReasons: [],
  healthy: true,
  updatedAt: 0,
  source: 'sim',
  ...over,
});

function setup(over: Record<string, unknown> = {}) {
  let t = 1000;
  const q = createQuarantine({ policy: policy(over), now: () => t });
  const events: Array<QuarantineEntry | ReleaseEvent> = [];
  q.events.on('quarantined', (e) => events.push(e));
  q.events.on('released', (e) => events.push(e));
  return { q, events, advance: (ms: number) => (t += ms) };
}

test('an uncorrected ECC error quarantines; release acknowledges the count; a new error re-quarantines', () => {
  const { q, events } = setup();
  assert.equal(q.observe([gpu()])[0]!.healthy, true);
  const [marked] = q.observe([gpu({ eccVolatileUncorrected: 1 })]);
  assert.equal(marked!.healthy, false);
  assert.equal(marked!.quarantineReason, 'ecc_uncorrected: 1 volatile uncorrected ECC error(s)');
  assert.deepEqual(
    q.list().map((e) => [e.uuid, e.reason, e.since]),
    [['GPU-a', 'ecc_uncorrected', 1000]],
  );
  assert.equal(q.observe([gpu({ eccVolatileUncorrected: 1 })])[0]!.healthy, false, 'stays until released');
  assert.equal(q.release('GPU-a')!.by, 'operator');
  assert.equal(q.release('GPU-a'), undefined);
  assert.equal(
    q.observe([gpu({ eccVolatileUncorrected: 1 })])[0]!.healthy,
    true,
    'old count is acknowledged',
  );
  assert.equal(q.observe([gpu({ eccVolatileUncorrected: 2 })])[0]!.healthy, false);
  assert.equal(events.length, 3);
});

test('critical XIDs quarantine, others do not; temperature at the limit does', () => {
  const { q } = setup({ maxTemperatureC: 90 });
  assert.equal(q.observe([gpu({ xidLast: 13 })])[0]!.healthy, true);
  assert.match(q.observe([gpu({ xidLast: 79 })])[0]!.quarantineReason!, /^xid: critical XID 79/);
  const [hot] = q.observe([gpu({ uuid: 'GPU-b', temperatureC: 90 })]);
  assert.equal(hot!.quarantineReason, 'temperature: temperature 90 C >= 90 C');
  assert.equal(
    q.observe([gpu({ uuid: 'GPU-c', healthy: false })])[0]!.quarantineReason!.startsWith('lost'),
    true,
  );
});

test('persistent throttling counts only an unbroken stretch of a listed reason', () => {
  const { q, advance } = setup({ persistentThrottle: { reasons: ['hw_slowdown'], forMs: 1000 } });
  const slow = gpu({ throttleReasons: ['hw_slowdown'] });
  q.observe([slow]);
  advance(600);
  q.observe([gpu()]); // the stretch breaks
  q.observe([slow]);
  advance(600);
  assert.equal(q.observe([slow])[0]!.healthy, true);
  advance(500);
  assert.equal(q.observe([slow])[0]!.quarantineReason!.startsWith('persistent_throttle: hw_slowdown'), true);
  assert.equal(q.observe([gpu({ throttleReasons: ['sw_power_cap'] })])[0]!.healthy, false);
});

test('cool-down releases once the time passed and the cause is gone; 0 means operator only', () => {
  const { q, events, advance } = setup({ maxTemperatureC: 90, coolDownMs: 5000 });
  q.observe([gpu({ temperatureC: 95 })]);
  advance(6000);
  assert.equal(q.observe([gpu({ temperatureC: 95 })])[0]!.healthy, false, 'still hot');
  assert.equal(q.observe([gpu({ temperatureC: 60 })])[0]!.healthy, true);
  assert.equal((events.at(-1) as ReleaseEvent).by, 'cool-down');

  const op = setup({ maxTemperatureC: 90 });
  op.q.observe([gpu({ temperatureC: 95 })]);
  op.advance(10 ** 9);
  assert.equal(op.q.observe([gpu({ temperatureC: 40 })])[0]!.healthy, false);
});
