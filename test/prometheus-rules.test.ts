// deploy/prometheus: the scrape config, recording rules and alerts load in Prometheus's own checker, their
// promtool unit tests pass (each alert fires on the series that should fire it, not before its
// `for`), and every series they read is one meshd exports (docs/METRICS.md, kept equal to the code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const rules = new URL('../deploy/prometheus/rules/', import.meta.url).pathname;
const skip = spawnSync('promtool', ['--version']).error
  ? 'promtool not installed (.ci/run installs prometheus)'
  : false;

const promtool = (...args: string[]) => {
  const r = spawnSync('promtool', args, { cwd: rules, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

test('the scrape config and the rules load, and the rules pass their unit tests', { skip }, () => {
  const config = promtool('check', 'config', '../prometheus.yml');
  assert.equal(config.status, 0, config.output);
  const check = promtool('check', 'rules', 'infermesh.rules.yml');
  assert.equal(check.status, 0, check.output);
  const unit = promtool('test', 'rules', 'infermesh.test.yml');
  assert.equal(unit.status, 0, unit.output);
  assert.match(unit.output, /SUCCESS/);
});

test('every series the rules read is documented (and so exported) by meshd', () => {
  const text = readFileSync(`${rules}infermesh.rules.yml`, 'utf8');
  const documented = readFileSync(new URL('../docs/METRICS.md', import.meta.url), 'utf8');
  // Raw series only: recording rules' own names (`model:infermesh_…:rate5m`) are not exports.
  const used = new Set(
    [...text.matchAll(/(?<![:\w])infermesh_[a-z_]+(?![:\w])/g)].map((m) => m[0].replace(/_bucket$/, '')),
  );
  assert.ok(used.size >= 6, [...used].join(', '));
  for (const name of used) assert.ok(documented.includes(`\`${name}\``), `${name} is not in docs/METRICS.md`);
});
