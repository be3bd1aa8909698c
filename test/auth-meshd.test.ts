// RBAC end to end: a real meshd process with static keys, the `mesh` CLI as a process with --token
// and $MESH_TOKEN, and meshd's refusal to serve an unauthenticated API off loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { spawnMeshd } from './helpers/processes.ts';
import { AUDIENCE, ISSUER, createTestIssuer } from './helpers/jwt-issuer.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const listen0 = { host: '127.0.0.1', port: 0 };

function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...process.env, MESH_ENDPOINT: '', MESH_TOKEN: '', NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('mesh with --token and $MESH_TOKEN against a meshd with static keys; refusals audited', async (t) => {
  const issuer = await createTestIssuer();
  const dir = mkdtempSync(join(tmpdir(), 'auth-meshd-'));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [issuer.jwk] }));
  const meshd = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'n1', roles: ['gpu'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    security: { auth: { jwt: { jwksFile, issuer: ISSUER, audience: AUDIENCE } } },
  });
  t.after(() => meshd.stop());
  const mesh = (args: string[], env?: NodeJS.ProcessEnv) =>
    run('bin/mesh.js', ['-e', meshd.urls.api, ...args], env);
  const viewer = await issuer.sign({ sub: 'vera', roles: ['viewer'] });
  const operator = await issuer.sign({ sub: 'otto', roles: ['operator'] });

  const none = await mesh(['list-nodes']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^mesh: error: unauthenticated: no credentials/);

  const listed = await mesh(['--token', viewer, 'list-nodes', '-o', 'json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /"n1"/);

  const refused = await mesh(['drain', 'n1'], { MESH_TOKEN: viewer });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /permission_denied: .*DrainNode needs role operator/);

  const drained = await mesh(['drain', 'n1'], { MESH_TOKEN: operator });
  assert.equal(drained.code, 0, drained.stderr);
  // --token wins over the environment.
  const flagWins = await mesh(['--token', viewer, 'undrain', 'n1'], { MESH_TOKEN: operator });
  assert.match(flagWins.stderr, /permission_denied/);

  const expired = await issuer.sign({
    sub: 'old',
    roles: ['admin'],
    exp: Math.floor(Date.now() / 1000) - 600,
  });
  assert.match(
    (await mesh(['--token', expired, 'list-nodes'])).stderr,
    /unauthenticated: invalid bearer token: expired/,
  );

  // The audit trail of the meshd process: one line per refusal and per write.
  const audit = meshd
    .output()
    .split('\n')
    .filter((l) => l.includes('"audit":true'))
    .map((l) => JSON.parse(l) as { principal: string; rpc: string; result: string });
  assert.deepEqual(
    audit.map((a) => [a.principal, a.rpc.split('/')[1], a.result]),
    [
      ['unknown', 'ListNodes', 'denied'],
      ['jwt:vera', 'DrainNode', 'denied'],
      ['jwt:otto', 'DrainNode', 'ok'],
      ['jwt:vera', 'UndrainNode', 'denied'],
      ['unknown', 'ListNodes', 'denied'],
    ],
  );
});

test('meshd refuses an unauthenticated API off loopback; insecure: true starts it with a warning', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-insecure-'));
  const config = (extra: object) => {
    const file = join(dir, `meshd-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      stringify({
        apiVersion: 'infermesh/v1',
        node: { id: 'n1', roles: ['gpu'], dataDir: join(dir, 'data') },
        api: { host: '0.0.0.0', port: 0 },
        metrics: listen0,
        ...extra,
      }),
    );
    return file;
  };
  const refused = await run('bin/meshd.js', ['start', '--config', config({})]);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    /meshd: invalid_config: refusing to listen off loopback without authentication: api\.host 0\.0\.0\.0 without security\.auth\.jwt.*security\.insecure: true/,
  );

  const meshd = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'n1', roles: ['gpu'] },
    api: { host: '0.0.0.0', port: 0 },
    metrics: listen0,
    log: { level: 'warn' },
    security: { insecure: true },
  });
  t.after(() => meshd.stop());
  assert.match(meshd.output(), /"level":40.*"insecure":\["api \(0\.0\.0\.0\)"\].*security\.insecure is set/);
});
