import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuotaRule } from '../routing-rules.ts';
import { attachQuotaTable, createQuotaTable } from './quota-table.ts';

const rule = (r: Partial<QuotaRule>): QuotaRule => ({ policy: 'q', models: [], tenant: 't', ...r });

/** Virtual time: `now` returns what the test last set. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Requests taken back to back at one instant before the first refusal. */
function burst(take: () => number): number {
  let n = 0;
  while (take() === 0) if (++n > 10_000) break;
  return n;
}

test('requests per second: the burst passes, then one per 1/rate; refusals say how long', () => {
  const time = clock();
  const table = createQuotaTable([rule({ requestsPerSecond: 5, burstRequests: 5 })]);
  const take = () => table.take('t', 'm', 10, 1, time.now);
  assert.equal(burst(take), 5);
  assert.equal(take(), 200);
  time.advance(199);
  assert.ok(Math.abs(take() - 1) < 1e-6);
  time.advance(1);
  assert.equal(take(), 0);
  assert.equal(table.take('other', 'm', 10, 1, time.now), 0, 'another tenant has no quota here');
});

test('burst defaults to one second of requests and one minute of tokens', () => {
  const time = clock();
  const requests = createQuotaTable([rule({ requestsPerSecond: 3 })]);
  assert.equal(
    burst(() => requests.take('t', 'm', 1, 1, time.now)),
    3,
  );
  const tokens = createQuotaTable([rule({ tokensPerMinute: 600 })]);
  assert.equal(
    burst(() => tokens.take('t', 'm', 100, 1, time.now)),
    6,
  );
  // 100 tokens at 10 per second.
  assert.equal(tokens.take('t', 'm', 100, 1, time.now), 10_000);
});

test('over N live routers each router passes 1/N of the rate and burst', () => {
  for (const routers of [1, 2, 3, 4, 10]) {
    const time = clock();
    const table = createQuotaTable([rule({ requestsPerSecond: 20, burstRequests: 40 })]);
    const take = () => table.take('t', 'm', 1, routers, time.now);
    const first = burst(take);
    assert.equal(first, Math.floor(40 / routers), `burst at N=${routers}`);
    // A minute at a steady offered rate well over the quota: the router passes its share.
    let passed = 0;
    for (let ms = 0; ms < 60_000; ms += 5) {
      time.advance(5);
      if (take() === 0) passed++;
    }
    const share = (20 * 60) / routers;
    assert.ok(Math.abs(passed - share) <= share * 0.02 + 1, `N=${routers}: ${passed} of ${share}`);
    // N routers together: within 10% of the quota over the minute (burst included).
    const total = (first + passed) * routers;
    assert.ok(total <= 20 * 60 * 1.1 && total >= 20 * 60 * 0.9, `N=${routers}: mesh total ${total}`);
  }
});

test('a request over its router’s share of the burst waits for its whole cost, not forever', () => {
  const time = clock();
  const table = createQuotaTable([rule({ tokensPerMinute: 6000, burstTokens: 1000 })]);
  assert.equal(table.take('t', 'm', 2000, 4, time.now), 0, 'a fresh bucket passes it');
  // 2000 tokens at 1500 per minute (6000 / 4 routers).
  assert.equal(table.take('t', 'm', 2000, 4, time.now), 80_000);
});

test('every covering budget must pass; a refusal takes from none', () => {
  const time = clock();
  const table = createQuotaTable([
    rule({ policy: 'all', requestsPerSecond: 100 }),
    rule({ policy: 'big', models: ['big', 'huge'], requestsPerSecond: 1, burstRequests: 2 }),
  ]);
  assert.equal(
    burst(() => table.take('t', 'big', 1, 1, time.now)),
    2,
  );
  assert.equal(
    burst(() => table.take('t', 'huge', 1, 1, time.now)),
    2,
    'each listed model has its own budget',
  );
  // 'small' is only under 'all', whose 100 requests the refused ones did not spend.
  assert.equal(
    burst(() => table.take('t', 'small', 1, 1, time.now)),
    96,
  );
});

test('a table attached in another thread shares the buckets; a new table keeps the levels', () => {
  const time = clock();
  const rules = [rule({ requestsPerSecond: 4 })];
  const main = createQuotaTable(rules);
  const worker = attachQuotaTable(rules, main.memory);
  assert.equal(main.take('t', 'm', 1, 1, time.now), 0);
  assert.equal(worker.take('t', 'm', 1, 1, time.now), 0);
  assert.equal(
    burst(() => worker.take('t', 'm', 1, 1, time.now)),
    2,
  );
  const next = createQuotaTable([...rules, rule({ tenant: 'u', requestsPerSecond: 1 })], main);
  assert.equal(next.take('t', 'm', 1, 1, time.now), 250, 'still spent after the policy changed');
  assert.equal(next.take('u', 'm', 1, 1, time.now), 0);
  assert.throws(() => attachQuotaTable(rules, next.memory), /does not match/);
});
