// Tenant API keys end to end: a real meshd (router on two worker threads, required keys on
// loopback), keys made and revoked with the real `mesh` CLI, and the official OpenAI SDK as the
// client: a key authenticates as its tenant (its quota applies), a wrong or missing key is a 401
// in OpenAI's error shape, a revoked key stops working without a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'api-keys-'));
const listen0 = { host: '127.0.0.1', port: 0 };
const MODEL = 'sim-llama-3-8b';
let meshd: MeshdProcess;

before(async () => {
  meshd = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'local', roles: ['router', 'gpu'], dataDir: join(dir, 'data') },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    router: { listen: listen0, workers: 2 },
    security: { apiKeys: { required: true } },
    gpu: { scrapeIntervalMs: 100, simulators: [{ name: 'sim-0', model: MODEL, profile: 'h100', seed: 1 }] },
  });
});
after(() => meshd?.stop());

/** A `mesh` process against the meshd (bounded). */
function mesh(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/mesh.js', '-e', meshd.urls.api, ...args], {
    cwd: root,
    env: { ...process.env, MESH_ENDPOINT: '', NO_COLOR: '1' },
  });
  const run = { code: null as number | null, stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ...run, code });
    });
  });
}

async function ok(...args: string[]) {
  const r = await mesh(...args);
  assert.equal(r.code, 0, `mesh ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const client = (apiKey: string) =>
  new OpenAI({ baseURL: `${meshd.urls.router}/v1`, apiKey, maxRetries: 0, timeout: 10_000 });
const chat = (apiKey: string, headers: Record<string, string> = {}) =>
  client(apiKey).chat.completions.create(
    { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 },
    { headers },
  );
const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (err: unknown) => (err instanceof OpenAI.APIError ? Number(err.status ?? 0) : -1),
  );

/** Polls `fn` until it gives `want` (bounded). */
async function until(what: string, fn: () => Promise<number>, want: number, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await fn();
    if (got === want) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${got})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function createKey(tenant: string): Promise<{ keyId: string; secret: string }> {
  const r = await ok('apikey', 'create', '--tenant', tenant, '--name', 'test', '-o', 'json');
  const out = JSON.parse(r.stdout) as { apiKey: { keyId: string; tenant: string }; secret: string };
  assert.equal(out.apiKey.tenant, tenant);
  assert.match(out.secret, new RegExp(`^im_${out.apiKey.keyId}_[A-Za-z0-9_-]{43}$`));
  return { keyId: out.apiKey.keyId, secret: out.secret };
}

test('a key authenticates as its tenant: the quota of that tenant applies', async () => {
  await ok('tenant', 'create', 'acme');
  const missing = await mesh('apikey', 'create', '--tenant', 'ghost');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no tenant "ghost"/);
  const table = await ok('apikey', 'create', '--tenant', 'acme');
  assert.match(table.stdout, /API key: im_[0-9a-f]{16}_\S{43}\n/);
  assert.match(table.stdout, /cannot be shown again/);
  const { keyId, secret } = await createKey('acme');
  await until('the key to reach the router', () => status(chat(secret)), 200);
  // Every worker thread has the key by now (policy messages take well under this).
  await new Promise((r) => setTimeout(r, 200));

  const list = JSON.parse((await ok('apikey', 'list', '--tenant', 'acme', '-o', 'json')).stdout) as {
    apiKeys: Array<Record<string, unknown>>;
  };
  assert.equal(list.apiKeys.length, 2);
  assert.ok(list.apiKeys.some((k) => k.keyId === keyId));
  assert.ok(!JSON.stringify(list).includes(secret.slice(20)), 'list shows no secret');

  await ok('quota', 'set', 'acme', '--rps', '2', '--burst-requests', '2');
  await new Promise((r) => setTimeout(r, 200));
  const results = await Promise.all([0, 1, 2].map(() => status(chat(secret))));
  assert.deepEqual(
    results.sort((a, b) => a - b),
    [200, 200, 429],
  );
  const metrics = await (await fetch(`${meshd.urls.metrics}/metrics`)).text();
  const admitted = Number(/^infermesh_tenant_requests_total\{tenant="acme"\} (\d+)/m.exec(metrics)?.[1]);
  assert.ok(admitted >= 3, `tenant requests: ${admitted}`);
});

test('a wrong or missing key is a 401 in the OpenAI shape; another tenant by header is a 403', async () => {
  await ok('tenant', 'create', 'globex');
  const { secret } = await createKey('globex');
  await until('the key to reach the router', () => status(chat(secret)), 200);
  await assert.rejects(chat(`${secret.slice(0, -2)}xx`), OpenAI.AuthenticationError);
  await assert.rejects(chat('sk-anything'), OpenAI.AuthenticationError);
  await assert.rejects(chat(secret, { 'x-mesh-tenant': 'acme' }), OpenAI.PermissionDeniedError);
  assert.equal(await status(chat(secret, { 'x-mesh-tenant': 'globex' })), 200);

  // No key at all, and a client choosing a tenant by header: refused, with the Bearer challenge.
  const res = await fetch(`${meshd.urls.router}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mesh-tenant': 'globex' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
  assert.equal(res.headers.get('mesh-error-code'), 'unauthenticated');
  const body = (await res.json()) as { error: { code: string; type: string } };
  assert.equal(body.error.code, 'unauthenticated');
  // x-api-key works as well as Authorization.
  const viaHeader = await fetch(`${meshd.urls.router}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': secret },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
  assert.equal(viaHeader.status, 200);
});

test('a revoked key gets 401 once the router mirror has the change, without a restart', async () => {
  await ok('tenant', 'create', 'initech');
  const { keyId, secret } = await createKey('initech');
  await until('the key to reach the router', () => status(chat(secret)), 200);
  const revoked = await ok('apikey', 'revoke', keyId);
  assert.match(revoked.stdout, new RegExp(`${keyId}\\s+revoked`));
  await until('the revocation to reach the router', () => status(chat(secret)), 401, 5000);
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 4; i++) assert.equal(await status(chat(secret)), 401);
  const list = JSON.parse((await ok('apikey', 'list', '-o', 'json')).stdout) as {
    apiKeys: Array<{ keyId: string }>;
  };
  assert.ok(!list.apiKeys.some((k) => k.keyId === keyId));
  const again = await mesh('apikey', 'revoke', keyId);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not_found/);
});
