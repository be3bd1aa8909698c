// docs/SECURITY.md's five-minute setup, run on loopback as three real meshd processes: a CA, one
// certificate per node and an admin's, two gpu nodes (mTLS + JWT) and a router (mTLS, JWT, TLS on
// its port, API keys required) following both by node id. The operator, with the admin
// certificate, lists the three nodes, creates a tenant and a key through the `mesh` CLI; a client
// with the key is served; without credentials nothing reaches the control API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, fetch as undiciFetch } from 'undici';
import { initCaDir } from '../src/security/pki/ca-dir.ts';
import { issueToFiles } from '../src/security/pki/issue-files.ts';
import { AUDIENCE, ISSUER, createTestIssuer } from './helpers/jwt-issuer.ts';
import { waitFor } from './helpers/local-mesh.ts';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;
const listen0 = { host: '127.0.0.1', port: 0 };
const dir = mkdtempSync(join(tmpdir(), 'security-setup-'));
const caDir = join(dir, 'mesh-ca');
const bundle = join(caDir, 'bundle.pem');
const nodes: MeshdProcess[] = [];
let router: MeshdProcess;
let admin: { certFile: string; keyFile: string };

const tlsOf = (f: { certFile: string; keyFile: string }) => ({
  cert: f.certFile,
  key: f.keyFile,
  ca: bundle,
  trustDomain: 'mesh.local',
});

before(async () => {
  // 1-3 of the setup: the CA, a certificate per node, an admin identity.
  await initCaDir(caDir, { trustDomain: 'mesh.local' });
  const issue = (id: string, roles: string[], kind: 'node' | 'admin' = 'node') =>
    issueToFiles({ caDir, kind, id, roles, out: join(dir, 'certs', id) });
  const [gpu1, gpu2, router1] = await Promise.all([
    issue('gpu-1', ['gpu']),
    issue('gpu-2', ['gpu']),
    issue('router-1', ['router']),
  ]);
  admin = await issue('alice', ['admin'], 'admin');
  const issuer = await createTestIssuer();
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [issuer.jwk] }));
  const jwt = { jwksFile, issuer: ISSUER, audience: AUDIENCE };

  const gpuNode = (id: string, cert: typeof gpu1, seed: number) =>
    spawnMeshd({
      apiVersion: 'infermesh/v1',
      node: { id, roles: ['gpu'] },
      api: listen0,
      metrics: listen0,
      log: { level: 'warn' },
      gpu: { scrapeIntervalMs: 100, simulators: [{ name: 'sim-0', profile: 'h100', timeScale: 20, seed }] },
      security: { tls: tlsOf(cert), auth: { jwt } },
    });
  const gpus = await Promise.all([gpuNode('gpu-1', gpu1, 1), gpuNode('gpu-2', gpu2, 2)]);
  nodes.push(...gpus);
  router = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'router-1', roles: ['router'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    router: {
      listen: listen0,
      peers: [
        { id: 'gpu-1', url: gpus[0].urls.api },
        { id: 'gpu-2', url: gpus[1].urls.api },
      ],
    },
    security: {
      tls: { ...tlsOf(router1), routerPort: { cert: router1.certFile, key: router1.keyFile } },
      auth: { jwt },
      apiKeys: { required: true },
    },
  });
  nodes.push(router);
});
after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await rm(dir, { recursive: true, force: true });
});

const mesh = (...args: string[]) =>
  run(process.execPath, ['bin/mesh.js', '-e', router.urls.api, ...args], {
    cwd: root,
    env: {
      ...process.env,
      NO_COLOR: '1',
      MESH_CERT: admin.certFile,
      MESH_KEY: admin.keyFile,
      MESH_CA: bundle,
    },
  });

test('the three-node setup: the operator sees the mesh, makes a tenant and a key; the key is served; nothing gets in without credentials', async () => {
  const list = JSON.parse((await mesh('list-nodes', '-o', 'json')).stdout) as {
    nodes: Array<{ id: string; apiUrl: string }>;
  };
  assert.deepEqual(list.nodes.map((n) => n.id).sort(), ['gpu-1', 'gpu-2', 'router-1']);
  assert.ok(
    list.nodes.every((n) => n.apiUrl.startsWith('https://')),
    JSON.stringify(list.nodes),
  );
  await mesh('tenant', 'create', 'acme');
  const key = (
    JSON.parse((await mesh('apikey', 'create', '--tenant', 'acme', '-o', 'json')).stdout) as {
      secret: string;
    }
  ).secret;
  assert.match(key, /^im_/);

  const clients = new Agent({ connect: { ca: readFileSync(bundle, 'utf8') } });
  const complete = (authorization?: string) =>
    undiciFetch(`${router.urls.router}/v1/completions`, {
      dispatcher: clients,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hello', max_tokens: 4 }),
    });
  const served = new Set<string>();
  await waitFor(
    async () => {
      const res = await complete(`Bearer ${key}`);
      await res.text();
      if (res.status === 200) served.add(res.headers.get('x-infermesh-endpoint') ?? '');
      return served.size === 2;
    },
    20_000,
    'requests with the key served by both gpu nodes',
  );
  assert.deepEqual([...served].sort(), ['gpu-1/sim-0', 'gpu-2/sim-0']);
  const anonymous = await complete();
  assert.equal(anonymous.status, 401);
  await anonymous.text();

  // The control API without a certificate or a token: refused.
  const res = await undiciFetch(`${router.urls.api}/infermesh.control.v1.ControlPlane/ListNodes`, {
    dispatcher: clients,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 401, await res.text());
});
