// The `mesh` commands over the control store, as real processes (bin/mesh.js) against a real meshd
// (router + gpu with a simulator, embedded store in a temporary directory).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cli-control-'));
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
    router: { listen: listen0 },
    control: { store: { embedded: { path: join(dir, 'control.db') } } },
    gpu: { scrapeIntervalMs: 100, simulators: [{ name: 'sim-0', model: MODEL, profile: 'h100', seed: 1 }] },
  });
});
after(() => meshd?.stop());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A `mesh` process; `opts.until` ends it with SIGINT once its stdout matches (bounded wait). */
function start(args: string[]) {
  const child = spawn(process.execPath, ['bin/mesh.js', '-e', meshd.urls.api, ...args], {
    cwd: root,
    env: { ...process.env, MESH_ENDPOINT: '', NO_COLOR: '1' },
  });
  const run: Run = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      run.code = code;
      resolve(run);
    });
  });
  return { child, run, done };
}

const mesh = (...args: string[]): Promise<Run> => start(args).done;

async function ok(...args: string[]): Promise<Run> {
  const r = await mesh(...args);
  assert.equal(r.code, 0, `mesh ${args.join(' ')}: ${r.stderr}`);
  return r;
}
const json = async <T>(...args: string[]): Promise<T> =>
  JSON.parse((await ok(...args, '-o', 'json')).stdout) as T;

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

interface EventRow {
  revision: number;
  type: string;
  source: string;
  data: Record<string, string>;
}

type Nodes = { nodes: Array<{ id: string; status: string }> };
type Placements = { placements: Array<Record<string, unknown>> };

// Each `mesh` process pays Node's start-up: independent calls run in parallel.
test('drain shows in list-nodes until undrain', async () => {
  const drained = await json<{ node: string; action: string }>('drain', 'local');
  assert.deepEqual([drained.node, drained.action], ['local', 'draining']);
  const [nodes, table] = await Promise.all([
    json<Nodes>('list-nodes'),
    ok('list-nodes', '--status', 'draining'),
  ]);
  assert.equal(nodes.nodes.find((n) => n.id === 'local')?.status, 'draining');
  assert.match(table.stdout, /^local\s+router,gpu\s+draining/m);
  await ok('undrain', 'local');
  const [back, unknown] = await Promise.all([json<Nodes>('list-nodes'), mesh('drain', 'no-such-node')]);
  assert.notEqual(back.nodes.find((n) => n.id === 'local')?.status, 'draining');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^mesh: error: not_found: .*no-such-node/);
});

test('pin shows in placements with the node that serves the model, until unpin', async () => {
  await ok('pin', MODEL, '--node', 'local', '--mode', 'require', '--min-replicas', '1');
  const placement = await until('the pinned model to be loaded', async () => {
    const { placements } = await json<Placements>('placements');
    const p = placements.find((x) => x.model === MODEL);
    return (p?.loadedNodes as string[] | undefined)?.includes('local') ? p : undefined;
  });
  assert.deepEqual(
    { ...placement, revision: typeof placement.revision },
    {
      model: MODEL,
      mode: 'require',
      pinnedNodes: ['local'],
      minReplicas: 1,
      loadedNodes: ['local'],
      state: 'ok',
      revision: 'number',
    },
  );
  const [table, yaml] = await Promise.all([ok('placements'), ok('placements', '-o', 'yaml')]);
  assert.match(table.stdout, /^MODEL\s+MODE\s+PINNED\s+MIN\s+LOADED\s+STATE\s+REVISION$/m);
  assert.match(table.stdout, new RegExp(`^${MODEL}\\s+require\\s+local\\s+1\\s+local\\s+ok\\s+\\d+$`, 'm'));
  assert.equal((parseYaml(yaml.stdout) as Placements).placements.length, 1);
  await ok('unpin', MODEL);
  assert.deepEqual((await json<Placements>('placements')).placements, []);
});

test('policy set lists every problem of a bad spec; set, get, list, delete', async () => {
  // The whole policy in a YAML file.
  const file = join(dir, 'gold.yaml');
  const gold = {
    name: 'slo.gold',
    type: 'slo',
    targetModels: [MODEL],
    spec: { class: 'latency', ttftMs: 200 },
  };
  writeFileSync(file, stringify(gold));
  const [bad, setOut] = await Promise.all([
    mesh('policy', 'set', 'slo.bad', '--type', 'slo', '--spec', '{"class":"fast","ttftMs":-1,"extra":1}'),
    ok('policy', 'set', '-f', file, '-o', 'json'),
  ]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^mesh: error: invalid_request: /);
  for (const problem of ['class', 'ttftMs', 'extra']) assert.ok(bad.stderr.includes(problem), bad.stderr);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1, 'one line');
  const set = JSON.parse(setOut.stdout) as { policy: { name: string; revision: number } };
  assert.equal(set.policy.name, 'slo.gold');
  assert.ok(set.policy.revision > 0);

  const spec150 = '{"class":"latency","ttftMs":150}';
  const [got, stale] = await Promise.all([
    json<{ policy: Record<string, unknown> }>('policy', 'get', 'slo.gold'),
    // A stale expected revision is refused.
    mesh('policy', 'set', 'slo.gold', '-t', 'slo', '--spec', spec150, '--expected-revision', '1'),
  ]);
  assert.deepEqual([got.policy.type, got.policy.targetModels, got.policy.spec], ['slo', [MODEL], gold.spec]);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /^mesh: error: conflict: /);
  const rev = String(set.policy.revision);
  await Promise.all([
    ok('policy', 'set', 'slo.gold', '-t', 'slo', '-m', MODEL, '--spec', spec150, '--expected-revision', rev),
    ok('policy', 'set', 'slo.batch', '-t', 'slo', '--spec', '{"class":"throughput"}'),
  ]);
  const [list, table] = await Promise.all([
    json<{ policies: Array<{ name: string; spec: object }> }>('policy', 'list', '--type', 'slo'),
    ok('policy', 'list'),
  ]);
  assert.deepEqual(
    list.policies.map((p) => p.name),
    ['slo.batch', 'slo.gold'],
  );
  assert.deepEqual(list.policies[1]?.spec, { class: 'latency', ttftMs: 150 });
  assert.match(
    table.stdout,
    /^slo\.gold\s+slo\s+sim-llama-3-8b\s+\(all\)\s+\{"class":"latency","ttftMs":150\}/m,
  );
  await ok('policy', 'delete', 'slo.batch');
  const gone = await mesh('policy', 'get', 'slo.batch');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^mesh: error: not_found: /);
});

test('tenants and their quotas; a quota of a missing tenant is refused', async () => {
  await ok('tenant', 'create', 'acme', '--display-name', 'Acme Inc', '--default-slo-class', 'throughput');
  const [{ tenants }, perModel, all, missing] = await Promise.all([
    json<{ tenants: Array<Record<string, unknown>> }>('tenant', 'list'),
    mesh('quota', 'set', 'acme', '--model', MODEL, '--rps', '5', '--tpm', '1000', '--burst-requests', '10'),
    mesh('quota', 'set', 'acme', '--tpm', '50000'),
    mesh('quota', 'set', 'ghost', '--rps', '1'),
  ]);
  const acme = tenants.find((t) => t.id === 'acme');
  assert.deepEqual([acme?.displayName, acme?.defaultSloClass], ['Acme Inc', 'throughput']);
  assert.equal(perModel.code, 0, perModel.stderr);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^mesh: error: invalid_request: .*no tenant "ghost"/);
  const [{ quotas }, table] = await Promise.all([
    json<{ quotas: Array<Record<string, unknown>> }>('quota', 'list', '--tenant', 'acme'),
    ok('quota', 'list'),
  ]);
  assert.deepEqual(quotas, [
    {
      name: 'quota.acme.all',
      tenant: 'acme',
      models: [],
      requestsPerSecond: null,
      tokensPerMinute: 50000,
      burstRequests: null,
      burstTokens: null,
      revision: quotas[0]?.revision,
    },
    {
      name: `quota.acme.${MODEL}`,
      tenant: 'acme',
      models: [MODEL],
      requestsPerSecond: 5,
      tokensPerMinute: 1000,
      burstRequests: 10,
      burstTokens: null,
      revision: quotas[1]?.revision,
    },
  ]);
  assert.match(table.stdout, /^TENANT\s+MODEL\(S\)\s+RPS\s+TPM\s+BURST\s+POLICY$/m);
  assert.match(
    table.stdout,
    new RegExp(`^acme\\s+${MODEL}\\s+5\\s+1000\\s+10 req / - tok\\s+quota\\.acme\\.`, 'm'),
  );
  await ok('quota', 'delete', 'acme');
  const left = await json<{ quotas: Array<{ name: string }> }>('quota', 'list');
  assert.deepEqual(
    left.quotas.map((q) => q.name),
    [`quota.acme.${MODEL}`],
  );
});

test('events: stored ones with revisions, filtered by type; --follow receives a new one', async () => {
  const [{ events }, draining, table] = await Promise.all([
    json<{ events: EventRow[] }>('events'),
    json<{ events: EventRow[] }>('events', '--type', 'node_draining'),
    ok('events', '--type', 'tenant_created'),
  ]);
  const types = events.map((e) => e.type);
  for (const type of ['node_draining', 'node_undrained', 'policy_created', 'tenant_created'])
    assert.ok(types.includes(type), `${type} in ${types.join(',')}`);
  const revisions = events.map((e) => e.revision);
  assert.ok(
    revisions.every((r, i) => r > 0 && (i === 0 || r > revisions[i - 1]!)),
    'increasing revisions',
  );
  assert.ok(draining.events.every((e) => e.type === 'node_draining'));
  assert.ok(draining.events.some((e) => e.data.node === 'local' && e.data.force === 'false'));
  assert.match(table.stdout, /^REVISION\s+TIME\s+TYPE\s+SOURCE\s+DATA$/m);
  assert.match(table.stdout, /^\d+\s+\d{4}-\d\d-\d\dT\S+\s+tenant_created\s+\S+\s+.*acme/m);

  const last = Math.max(...revisions);
  const follow = start(['events', '--follow', '--since', String(last), '-o', 'json']);
  const watch = start(['policy', 'list', '--watch', '-o', 'json']);
  try {
    // The watch prints the list once before anything changes.
    await until('the first watch rendering', async () =>
      watch.run.stdout.includes('\n') ? true : undefined,
    );
    await Promise.all([
      ok('tenant', 'create', 'globex'),
      ok('policy', 'set', 'slo.watched', '-t', 'slo', '--spec', '{"class":"latency"}'),
    ]);
    const line = await until('the followed event', async () =>
      follow.run.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as EventRow)
        .find((e) => e.type === 'tenant_created' && e.data.tenant === 'globex'),
    );
    assert.ok(line.revision > last);
    await until('the watch to show the new policy', async () =>
      watch.run.stdout.split('\n').some((l) => l.includes('"slo.watched"')) ? true : undefined,
    );
    for (const l of watch.run.stdout.split('\n').filter(Boolean)) JSON.parse(l); // one object per line
  } finally {
    follow.child.kill('SIGINT');
    watch.child.kill('SIGINT');
  }
  const [f, w] = await Promise.all([follow.done, watch.done]);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(w.code, 0, w.stderr);
});
