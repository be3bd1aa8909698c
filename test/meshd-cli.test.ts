// meshd's own commands as real processes: config, validate, --version, start failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { checkConfig, defaultConfig } from '../src/core/config.ts';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;
const meshd = (...args: string[]) => run(process.execPath, ['bin/meshd.js', ...args], { cwd: root });

test('meshd config prints the full default config, which validates as it is', async () => {
  const { stdout } = await meshd('config');
  const printed: unknown = parse(stdout);
  assert.deepEqual(printed, JSON.parse(JSON.stringify(defaultConfig())));
  assert.equal(checkConfig(printed).ok, true);
});

test('meshd validate accepts the example configs', async () => {
  const { stdout } = await meshd('validate', '--config', 'deploy/examples/local.yaml');
  assert.match(stdout, /valid/);
});

test('meshd validate lists every problem with its path and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshd-cfg-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    'apiVersion: infermesh/v1\nnode: { roles: [router, chef] }\nrouter: { retries: 9, listen: { port: 70000 } }\n',
  );
  const err = await meshd('validate', '--config', file).then(
    () => assert.fail('validate should fail'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /3 problem\(s\)/);
  for (const path of ['node.roles[1]', 'router.listen.port', 'router.retries'])
    assert.ok(err.stderr.includes(path), path);
});

test('meshd start with a broken config exits 1 with invalid_config, not a stack trace', async () => {
  const err = await meshd('start', '--config', '/nonexistent.yaml').then(
    () => assert.fail('start should fail'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /^meshd: invalid_config: cannot read config/);
});

test('meshd --version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const { stdout } = await meshd('--version');
  assert.equal(stdout.trim(), version);
});

for (const workers of [1, 2]) {
  test(`a busy router port names its config key (${workers} worker(s)), and nothing is left running`, async (t) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => taken.close());
    const port = (taken.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'meshd-busy-'));
    const file = join(dir, 'busy.yaml');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'infermesh/v1',
        node: { id: 'busy', roles: ['router'] },
        api: { port: 0 },
        metrics: { port: 0 },
        log: { level: 'silent' },
        router: { listen: { host: '127.0.0.1', port }, workers },
      }),
    );
    const err = await meshd('start', '--config', file).then(
      () => assert.fail('start should fail'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.equal(
      err.stderr.trim(),
      `meshd: invalid_config: router.listen: 127.0.0.1:${port} is already in use; set router.listen.port to a free port`,
    );
  });
}
