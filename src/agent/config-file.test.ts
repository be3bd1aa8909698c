import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { checkConfigText, loadConfigFile } from './config-file.ts';

test('YAML syntax errors are problems with a line, not exceptions', () => {
  const result = checkConfigText('apiVersion: infermesh/v1\nnode: [unclosed\n');
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.problems[0]!.path, /yaml line \d+/);
});

test('an empty file fails on the missing apiVersion only', () => {
  const result = checkConfigText('');
  assert.equal(result.ok, false);
  if (!result.ok)
    assert.deepEqual(
      result.problems.map((p) => p.path),
      ['apiVersion'],
    );
});

test('every example config in deploy/examples is valid', async () => {
  const dir = new URL('../../deploy/examples/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 4, `examples: ${files.join(', ')}`);
  for (const file of files) await loadConfigFile(new URL(file, dir).pathname);
});

test('a missing file is invalid_config', async () => {
  await assert.rejects(loadConfigFile('/nonexistent/meshd.yaml'), { code: 'invalid_config' });
});
