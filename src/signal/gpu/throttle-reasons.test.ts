import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migProfileName } from './nvml/mig-profile.ts';
import { decodeThrottleReasons, parseThrottleMask } from './throttle-reasons.ts';

test('decodes the clocks event reasons bitmask, keeping unknown bits visible', () => {
  assert.deepEqual(decodeThrottleReasons(0), []);
  assert.deepEqual(decodeThrottleReasons(1), ['gpu_idle']);
  assert.deepEqual(decodeThrottleReasons(0x4n | 0x40n), ['sw_power_cap', 'hw_thermal_slowdown']);
  assert.deepEqual(decodeThrottleReasons(0x200n | 0x1n), ['gpu_idle', 'bit_9']);
  assert.equal(parseThrottleMask('0x0000000000000001'), 1n);
  assert.equal(parseThrottleMask('[N/A]'), undefined);
});

test('MIG profile names follow NVIDIA’s rounding to eighths of the board', () => {
  const a100 = 81920 * 1024 * 1024;
  assert.equal(migProfileName(1, 9856, a100), '1g.10gb');
  assert.equal(migProfileName(3, 40192, a100), '3g.40gb');
  assert.equal(migProfileName(3, 40192, 81559 * 1024 * 1024), '3g.40gb');
  assert.equal(migProfileName(2, 11968), '2g.12gb');
});
