import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MeshError } from '../../core/errors.ts';
import { NO_ROUTING_RULES, type RoutingRules } from '../routing-rules.ts';
import { createQuotaLimiter } from './quota-limiter.ts';
import { createQuotaTable } from './quota-table.ts';
import { createThrottle } from './throttle.ts';

const rules: RoutingRules = {
  ...NO_ROUTING_RULES,
  tenants: { acme: {}, globex: {} },
  quotas: [{ policy: 'q', models: [], tenant: 'acme', requestsPerSecond: 2, burstRequests: 2 }],
};

test('no tenant: no quota; unknown tenant: invalid_request; over quota: rate_limited with a retry time', () => {
  let t = 0;
  let routers = 1;
  const limiter = createQuotaLimiter({ liveRouters: () => routers, now: () => t });
  limiter.use(rules, createQuotaTable(rules.quotas));
  for (let i = 0; i < 10; i++) limiter.admit(undefined, 'm', 1);
  assert.throws(
    () => limiter.admit('nobody', 'm', 1),
    (e: MeshError) => e.code === 'invalid_request' && /unknown tenant/.test(e.message),
  );
  limiter.admit('acme', 'm', 1);
  limiter.admit('acme', 'm', 1);
  assert.throws(
    () => limiter.admit('acme', 'm', 1),
    (e: MeshError) =>
      e.code === 'rate_limited' && e.details.retryAfterSeconds === 1 && e.details.quota === true,
  );
  for (let i = 0; i < 10; i++) limiter.admit('globex', 'm', 1);
  // Four routers: 0.5 requests/s each, so the next passes in 2 s.
  routers = 4;
  t += 500;
  assert.throws(
    () => limiter.admit('acme', 'm', 1),
    (e: MeshError) => e.details.retryAfterSeconds === 2,
  );
  t += 1500;
  limiter.admit('acme', 'm', 1);
});

test('the throttle passes a key once per interval', () => {
  let t = 0;
  const throttle = createThrottle(10_000, () => t);
  assert.equal(throttle.pass('a'), true);
  assert.equal(throttle.pass('a'), false);
  assert.equal(throttle.pass('b'), true);
  t = 9_999;
  assert.equal(throttle.pass('a'), false);
  t = 10_000;
  assert.equal(throttle.pass('a'), true);
});
