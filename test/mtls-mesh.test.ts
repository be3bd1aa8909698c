// mTLS end to end, as real meshd processes with the shapes of docs/SECURITY.md's five-minute setup:
// a gpu node (TLS + JWT) and a router (TLS only) that follows it over mTLS and routes through it;
// the mesh CLI with an admin certificate; every refusal on the API port; a router of another trust
// domain refused by the gpu node (and audited); certificate rotation under load with no failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Agent, fetch as undiciFetch } from 'undici';
import { parse } from 'yaml';
import { configSchema } from '../src/core/config.ts';
import { ControlPlane } from '../src/gen/infermesh/control/v1/control_pb.js';
import { initCaDir } from '../src/security/pki/ca-dir.ts';
import { issueToFiles } from '../src/security/pki/issue-files.ts';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';
import { waitFor } from './helpers/local-mesh.ts';
import { AUDIENCE, ISSUER, createTestIssuer } from './helpers/jwt-issuer.ts';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;
const listen0 = { host: '127.0.0.1', port: 0 };
const dir = mkdtempSync(join(tmpdir(), 'mtls-mesh-'));
const caDir = join(dir, 'mesh-ca');
const bundleFile = join(caDir, 'bundle.pem');
const nodes: MeshdProcess[] = [];
let gpu: MeshdProcess;
let router: MeshdProcess;

/** `mesh cert issue` in code: a node or admin identity into `<dir>/certs/<id>/`. */
async function issue(
  id: string,
  roles: string[],
  opts: { kind?: 'node' | 'admin'; ca?: string; notBefore?: Date; notAfter?: Date } = {},
) {
  const kind = opts.kind ?? 'node';
  const out = join(dir, 'certs', `${id}${opts.ca ? `-${opts.ca.split('/').pop()}` : ''}`);
  return issueToFiles({
    caDir: opts.ca ?? caDir,
    kind,
    id,
    roles,
    out,
    ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
    ...(opts.notAfter ? { notAfter: opts.notAfter } : {}),
  });
}

/** `security.tls` of a node, as the setup's configs name the files. */
const tlsOf = (files: { certFile: string; keyFile: string }, ca = bundleFile) => ({
  cert: files.certFile,
  key: files.keyFile,
  ca,
  trustDomain: 'mesh.local',
});

let jwksFile: string;
let issuer: Awaited<ReturnType<typeof createTestIssuer>>;
before(async () => {
  await initCaDir(caDir, { trustDomain: 'mesh.local' });
  issuer = await createTestIssuer();
  jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [issuer.jwk] }));
  const gpuCert = await issue('gpu-1', ['gpu']);
  const routerCert = await issue('router-1', ['router']);
  gpu = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'gpu-1', roles: ['gpu'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    gpu: {
      scrapeIntervalMs: 100,
      simulators: [{ name: 'h100-0', profile: 'h100', timeScale: 20, seed: 1 }],
    },
    security: {
      tls: tlsOf(gpuCert),
      auth: { jwt: { jwksFile, issuer: ISSUER, audience: AUDIENCE } },
    },
  });
  nodes.push(gpu);
  router = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'router-1', roles: ['router'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    // Two worker threads: each serves the router port's TLS and gets its renewed certificate.
    router: { listen: listen0, workers: 2, peers: [{ id: 'gpu-1', url: gpu.urls.api }] },
    security: {
      tls: {
        ...tlsOf(routerCert),
        // Clients' certificate: in production a public CA's; here the mesh CA's, which the test trusts.
        routerPort: { cert: routerCert.certFile, key: routerCert.keyFile },
      },
    },
  });
  nodes.push(router);
  clients = new Agent({ connect: { ca: readFileSync(bundleFile, 'utf8') } });
});
after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await rm(dir, { recursive: true, force: true });
});

let clients: Agent;
const completion = () =>
  undiciFetch(`${router.urls.router}/v1/completions`, {
    dispatcher: clients,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hello', max_tokens: 8 }),
  });

async function routerKnowsModel(): Promise<boolean> {
  const res = await undiciFetch(`${router.urls.router}/v1/models`, { dispatcher: clients });
  const body = (await res.json()) as { data: Array<{ id: string }> };
  return body.data.some((m) => m.id === 'sim-llama-3-8b');
}

/** The gpu node's ControlPlane over https with the given client certificate (or none). */
function control(files?: { certFile: string; keyFile: string }, baseUrl = gpu.urls.api) {
  return createClient(
    ControlPlane,
    createConnectTransport({
      baseUrl,
      httpVersion: '1.1',
      nodeOptions: {
        ca: readFileSync(bundleFile),
        ...(files ? { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) } : {}),
        agent: false,
      },
    }),
  );
}

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  assert.fail('the call was accepted');
}

test('the API URL is https, and the router follows the gpu node over mTLS and routes through it', async () => {
  assert.match(gpu.urls.api, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(router.urls.router, /^https:\/\//);
  await waitFor(routerKnowsModel, 10_000, 'the router to learn the model over mTLS');
  const res = await completion();
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('x-infermesh-endpoint'), 'gpu-1/h100-0');
  await res.text();
  // Every internal RPC the router made with its node certificate was allowed.
  assert.doesNotMatch(gpu.output(), /"result":"denied"[^\n]*node\/router-1/);
});

test('model control: a node identity may not load or unload, so a call forwarded under the router certificate is refused by the target', async () => {
  const alice = await issue('fwd-admin', ['operator'], { kind: 'admin' });
  const err = await refusal(
    control(alice, router.urls.api).unloadModel({
      nodeId: 'gpu-1',
      model: 'no-such-lora',
      endpoint: 'h100-0',
    }),
  );
  assert.equal(err.code, Code.PermissionDenied, err.message);
  await waitFor(
    () =>
      /"principal":"spiffe:\/\/mesh\.local\/node\/router-1"[^\n]*"rpc":"infermesh\.control\.v1\.ControlPlane\/UnloadModel"[^\n]*"result":"denied"/.test(
        gpu.output(),
      ),
    5000,
    'the gpu node to audit the refused call',
  );
  // Called on the target node itself, the person's certificate is what is judged.
  const direct = await refusal(
    control(alice).unloadModel({ nodeId: 'gpu-1', model: 'no-such-lora', endpoint: 'h100-0' }),
  );
  for (const code of [Code.Unauthenticated, Code.PermissionDenied, Code.Unavailable])
    assert.notEqual(direct.code, code, direct.message);
});

test('mesh --cert/--key/--ca with an admin certificate lists the nodes over https', async () => {
  const alice = await issue('alice', ['admin'], { kind: 'admin' });
  const { stdout } = await run(
    process.execPath,
    [
      'bin/mesh.js',
      '-e',
      gpu.urls.api,
      '--cert',
      alice.certFile,
      '--key',
      alice.keyFile,
      '--ca',
      bundleFile,
      'list-nodes',
      '-o',
      'json',
    ],
    { cwd: root, env: { ...process.env, MESH_ENDPOINT: '', MESH_TOKEN: '', NO_COLOR: '1' } },
  );
  const listed = (JSON.parse(stdout) as { nodes: Array<{ id: string; apiUrl: string }> }).nodes;
  assert.ok(
    listed.some((n) => n.id === 'gpu-1' && n.apiUrl.startsWith('https://')),
    stdout,
  );
});

test('the API port refuses each bad caller with the right code', async () => {
  const none = await refusal(control().listNodes({}));
  assert.equal(none.code, Code.Unauthenticated, none.message);
  assert.match(none.message, /no credentials/);
  // The router has TLS but no JWT: a certificate is the only way in.
  const bare = await refusal(control(undefined, router.urls.api).listNodes({}));
  assert.equal(bare.code, Code.Unauthenticated, bare.message);
  assert.match(bare.message, /present a client certificate/);

  await initCaDir(join(dir, 'other-ca'), { trustDomain: 'mesh.local' });
  const stranger = await issue('alice', ['admin'], { kind: 'admin', ca: join(dir, 'other-ca') });
  const other = await refusal(control(stranger).listNodes({}));
  assert.equal(other.code, Code.Unauthenticated, other.message);
  assert.match(other.message, /client certificate refused/);
  // A token does not rescue a connection whose certificate failed; alone it is fine.
  const token = await issuer.sign({ sub: 'vera', roles: ['viewer'] });
  const withToken = { headers: { authorization: `Bearer ${token}` } };
  const mixed = await refusal(control(stranger).listNodes({}, withToken));
  assert.equal(mixed.code, Code.Unauthenticated, mixed.message);
  await control().listNodes({}, withToken);

  const day = 86_400_000;
  const expired = await issue('old-admin', ['admin'], {
    kind: 'admin',
    notBefore: new Date(Date.now() - 2 * day),
    notAfter: new Date(Date.now() - day),
  });
  const late = await refusal(control(expired).listNodes({}));
  assert.equal(late.code, Code.Unauthenticated, late.message);
  assert.match(late.message, /expired/i);

  // A router's node identity reads and watches, but is no admin: a policy write is refused.
  const node = {
    certFile: join(dir, 'certs', 'router-1', 'node.crt'),
    keyFile: join(dir, 'certs', 'router-1', 'node.key'),
  };
  await control(node).listNodes({});
  const denied = await refusal(control(node).createTenant({ tenant: { id: 'acme' } }));
  assert.equal(denied.code, Code.PermissionDenied, denied.message);
  // Only routers (and edges) follow nodes: a gpu node's certificate reads nothing.
  const gpuOnly = await issue('gpu-9', ['gpu']);
  const notRouter = await refusal(control(gpuOnly).listNodes({}));
  assert.equal(notRouter.code, Code.PermissionDenied, notRouter.message);

  // An admin certificate of the mesh CA may.
  const admin = await issue('root-admin', ['admin'], { kind: 'admin' });
  await control(admin).createTenant({ tenant: { id: 'acme' } });
  assert.match(gpu.output(), /"audit":true[^\n]*"result":"denied"/);
});

test('a router whose certificate is of another trust domain cannot follow the gpu node', async (t) => {
  // Its CA is trusted by the gpu node (a second root in its bundle), so only the SPIFFE ID differs.
  const evilCa = join(dir, 'evil-ca');
  await initCaDir(evilCa, { trustDomain: 'evil.local' });
  const evil = await issue('router-2', ['router'], { ca: evilCa });
  const both = join(dir, 'both-bundle.pem');
  writeFileSync(both, readFileSync(bundleFile, 'utf8') + readFileSync(join(evilCa, 'bundle.pem'), 'utf8'));
  // The gpu trusts both roots from now on: a bundle change is reloaded like a certificate.
  writeFileSync(bundleFile, readFileSync(both, 'utf8'));
  t.after(() => writeFileSync(bundleFile, readFileSync(join(caDir, 'bundle.pem'), 'utf8')));
  await new Promise((r) => setTimeout(r, 300));
  const outsider = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'router-2', roles: ['router'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    router: { listen: listen0, peers: [{ id: 'gpu-1', url: gpu.urls.api }] },
    // Misconfigured on purpose: it expects mesh.local peers but holds an evil.local identity.
    security: { tls: tlsOf(evil, both) },
  });
  nodes.push(outsider);
  await waitFor(
    async () => /"audit":true[^\n]*spiffe:\/\/evil\.local|"audit":true[^\n]*evil\.local/.test(gpu.output()),
    10_000,
    'the gpu node to log the refused stream',
  );
  const res = await fetch(`${outsider.urls.router}/v1/models`);
  const body = (await res.json()) as { data: Array<{ id: string }> };
  assert.equal(body.data.length, 0, JSON.stringify(body));
});

test('certificates rotate under load with no failed request', async () => {
  await waitFor(routerKnowsModel, 10_000, 'the router to follow the gpu node');
  let failures = 0;
  let sent = 0;
  let stop = false;
  const loop = async () => {
    while (!stop) {
      sent++;
      const res = await completion().catch(() => undefined);
      if (res?.status !== 200) failures++;
      await res?.text();
    }
  };
  const loops = [loop(), loop(), loop(), loop()];
  const serialOf = (base: string) =>
    new Promise<string>((resolve, reject) => {
      const url = new URL(base);
      const s = connect(
        {
          host: url.hostname,
          port: Number(url.port),
          ca: readFileSync(bundleFile),
          ALPNProtocols: ['http/1.1'],
        },
        () => {
          resolve(s.getPeerCertificate().serialNumber.toLowerCase());
          s.end();
        },
      );
      s.on('error', reject);
    });
  // Every new connection: on the router port that is both worker threads (SO_REUSEPORT spreads them).
  const serving = async (base: string, serial: string) => {
    const seen = await Promise.all(Array.from({ length: 6 }, () => serialOf(base)));
    return seen.every((s) => BigInt(`0x${s}`) === BigInt(`0x${serial.replace(/:/g, '')}`));
  };
  try {
    for (let i = 0; i < 3; i++) {
      const gpuNew = await issue('gpu-1', ['gpu']);
      const routerNew = await issue('router-1', ['router']);
      await waitFor(
        () => serving(gpu.urls.api, gpuNew.serial),
        5000,
        'the gpu API to serve its new certificate',
      );
      await waitFor(
        () => serving(router.urls.router, routerNew.serial),
        5000,
        'the router port to serve its new certificate',
      );
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  assert.ok(sent > 20, `only ${sent} requests`);
  assert.equal(failures, 0, `${failures} of ${sent} requests failed`);
});

test("docs/SECURITY.md's three-node setup: its configs are valid and of the shapes tested here", () => {
  const doc = readFileSync(join(root, 'docs/SECURITY.md'), 'utf8');
  const start = doc.indexOf('### Five-minute setup: a three-node mesh with mTLS and RBAC');
  const section = doc.slice(start, doc.indexOf('\n### ', start + 10));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as object);
  assert.equal(blocks.length, 2);
  for (const block of blocks) {
    const parsed = configSchema.safeParse(block);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    const tls = parsed.data.security.tls;
    assert.ok(tls.cert && tls.key && tls.ca && tls.trustDomain === 'mesh.local');
  }
  const routerCfg = configSchema.parse(blocks[1]);
  assert.ok(routerCfg.router.peers.every((p) => p.id && p.url.startsWith('https://')));
  assert.ok(routerCfg.security.tls.routerPort);
});

test('with renew.caDir a node issues its own certificate and serves it', async () => {
  const files = { certFile: join(dir, 'renewing', 'node.crt'), keyFile: join(dir, 'renewing', 'node.key') };
  const node = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'gpu-2', roles: ['gpu'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    // No certificate yet: the first renewal check writes it before the API listens.
    security: { tls: { ...tlsOf(files), renew: { caDir, hours: 1 } } },
  });
  nodes.push(node);
  const nodes2 = await control(
    {
      certFile: join(dir, 'certs', 'router-1', 'node.crt'),
      keyFile: join(dir, 'certs', 'router-1', 'node.key'),
    },
    node.urls.api,
  ).listNodes({});
  assert.deepEqual(
    nodes2.nodes.map((n) => n.id),
    ['gpu-2'],
  );
  const served = await new Promise<string>((resolve, reject) => {
    const url = new URL(node.urls.api);
    const s = connect({ host: url.hostname, port: Number(url.port), ca: readFileSync(bundleFile) }, () => {
      resolve(s.getPeerCertificate().subjectaltname ?? '');
      s.end();
    });
    s.on('error', reject);
  });
  assert.match(served, /URI:spiffe:\/\/mesh\.local\/node\/gpu-2/);
});

test('with gossip: a router finds a GPU node over mTLS gossip and follows its https API by its node id', async () => {
  const gpuCert = await issue('gpu-2', ['gpu']);
  const routerCert = await issue('router-2', ['router']);
  const timing = { probeIntervalMs: 200, probeTimeoutMs: 100, suspicionMult: 2, gossipIntervalMs: 50 };
  const gpu2 = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'gpu-2', roles: ['gpu'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    membership: { bind: '127.0.0.1:0', timing },
    gpu: { scrapeIntervalMs: 100, simulators: [{ name: 'h100-0', profile: 'h100', timeScale: 20, seed: 2 }] },
    security: { tls: tlsOf(gpuCert) },
  });
  nodes.push(gpu2);
  const router2 = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'router-2', roles: ['router'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    router: { listen: listen0, workers: 1 },
    membership: { bind: '127.0.0.1:0', seeds: [gpu2.urls.gossip], timing },
    security: { tls: tlsOf(routerCert) },
  });
  nodes.push(router2);
  assert.match(gpu2.urls.api, /^https:/);
  await waitFor(
    async () => {
      const res = await fetch(`${router2.urls.router}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hello', max_tokens: 4 }),
      });
      await res.text();
      return res.status === 200 && res.headers.get('x-infermesh-endpoint') === 'gpu-2/h100-0';
    },
    20_000,
    'router-2 to route to gpu-2 found by gossip',
  );
});
