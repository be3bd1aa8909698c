import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admissionError, admit, DEFAULT_ADMISSION } from './admission.ts';

test('admits within the SLO class budget or the request timeout, refuses past it with Retry-After', () => {
  assert.equal(admit({ predictedWaitMs: 9_000 }).admitted, true);
  const no = admit({ predictedWaitMs: 12_500 });
  assert.deepEqual([no.admitted, no.limitMs, no.retryAfterSeconds], [false, 10_000, 3]);
  assert.equal(admit({ predictedWaitMs: 12_500, sloClass: 'throughput' }).admitted, true);
  assert.equal(admit({ predictedWaitMs: 600, timeoutMs: 500 }).retryAfterSeconds, 1);
  assert.equal(admit({ predictedWaitMs: 1e9 }, { ...DEFAULT_ADMISSION, enabled: false }).admitted, true);
  const err = admissionError(no, 'm');
  assert.equal(err.code, 'rate_limited');
  assert.equal(err.httpStatus, 429);
  assert.equal(err.details.retryAfterSeconds, 3);
});
