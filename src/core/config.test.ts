import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfig, defaultConfig, parseConfig } from './config.ts';
import { MeshError } from './errors.ts';

test('defaults fill every key and the result is frozen', () => {
  const config = defaultConfig();
  assert.equal(config.apiVersion, 'infermesh/v1');
  assert.deepEqual(config.node.roles, ['router', 'gpu']);
  assert.equal(config.router.listen.port, 8080);
  assert.equal(config.api.port, 50051);
  assert.equal(config.router.retries, 1);
  assert.ok(Object.isFrozen(config.router.listen));
  assert.throws(() => {
    (config.router as { retries: number }).retries = 3;
  }, TypeError);
});

test('every problem is listed with its path', () => {
  const result = checkConfig({
    apiVersion: 'infermesh/v2',
    node: { roles: ['router', 'cook'] },
    router: { maxBodyBytes: -1, peers: [{ url: 'ftp://x' }] },
    gpu: { runtimes: [{ name: 'a', url: 'not a url' }], surprise: true },
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  const paths = result.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, [
    'apiVersion',
    'gpu',
    'gpu.runtimes[0].url',
    'node.roles[1]',
    'router.maxBodyBytes',
    'router.peers[0].url',
  ]);
});

test('cross-references are checked: duplicate endpoint names, endpoints without the gpu role', () => {
  const result = checkConfig({
    apiVersion: 'infermesh/v1',
    node: { roles: ['router'] },
    gpu: { runtimes: [{ name: 'a', url: 'http://127.0.0.1:1' }], simulators: [{ name: 'a' }] },
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.problems.map((p) => p.path),
    ['gpu.simulators[0].name', 'gpu'],
  );
});

test('membership: addresses, keys and cross-references are checked', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const ok = parseConfig({
    apiVersion: 'infermesh/v1',
    membership: { bind: '10.0.0.7:7946', seeds: ['10.0.0.1:7946', '[fd00::1]:7946'], keyring: [key] },
  });
  assert.deepEqual(ok.membership.seeds, ['10.0.0.1:7946', '[fd00::1]:7946']);
  assert.equal(ok.membership.insecure, false);

  const result = checkConfig({
    apiVersion: 'infermesh/v1',
    membership: { bind: '0.0.0.0:99999', seeds: ['no-port'], keyring: ['c2hvcnQ='] },
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.problems.map((p) => p.path).sort(), [
    'membership.advertise',
    'membership.bind',
    'membership.keyring[0]',
    'membership.seeds[0]',
  ]);
  const wildcard = checkConfig({ apiVersion: 'infermesh/v1', membership: { bind: '0.0.0.0:7946' } });
  assert.deepEqual(wildcard.ok ? [] : wildcard.problems.map((p) => p.path), ['membership.advertise']);
  const noBind = checkConfig({ apiVersion: 'infermesh/v1', membership: { seeds: ['10.0.0.1:7946'] } });
  assert.deepEqual(noBind.ok ? [] : noBind.problems.map((p) => p.path), ['membership.seeds']);
});

test('parseConfig throws invalid_config carrying the problems', () => {
  try {
    parseConfig({ apiVersion: 'nope' });
    assert.fail('expected a throw');
  } catch (err) {
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'invalid_config');
    assert.match(err.message, /apiVersion/);
    assert.ok(Array.isArray(err.details.problems));
  }
});

test('router.hedging: off by default, per-class overrides, min over max reported', () => {
  const d = parseConfig({ apiVersion: 'infermesh/v1' }).router.hedging;
  assert.equal(d.enabled, false);
  assert.equal(d.maxExtraPercent, 5);
  assert.equal(d.budget, 'predicted');
  const c = parseConfig({
    apiVersion: 'infermesh/v1',
    router: { hedging: { enabled: true, sloClasses: { throughput: { enabled: false } } } },
  }).router.hedging;
  assert.equal(c.sloClasses.throughput?.enabled, false);
  const bad = checkConfig({
    apiVersion: 'infermesh/v1',
    router: { hedging: { minBudgetMs: 500, sloClasses: { latency: { maxBudgetMs: 100 } } } },
  });
  assert.equal(bad.ok, false);
  if (!bad.ok)
    assert.deepEqual(
      bad.problems.map((p) => p.path),
      ['router.hedging.sloClasses.latency.minBudgetMs'],
    );
});
