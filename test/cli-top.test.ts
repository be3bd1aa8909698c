// `mesh top` as a real process (bin/mesh.js) against an in-process meshd (router + gpu) with four
// simulated endpoints on four simulated GPUs: one frame as a table and as JSON, a quarantined GPU
// marked as such, and a refreshing view in a non-TTY that stops by itself after --frames.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { simSourceOf } from '../src/agent/gpu-telemetry-role.ts';
import { startMeshd, type RunningMeshd } from '../src/agent/meshd.ts';
import type { TopSnapshot } from '../src/cli/top/snapshot.ts';
import { ENTER_SCREEN, LEAVE_SCREEN } from '../src/cli/top/terminal.ts';
import { parseConfig } from '../src/core/config.ts';
import { createLogger } from '../src/observability/log.ts';
import { simGpuUuid } from '../src/signal/gpu/sim/source.ts';
import { waitFor } from './helpers/local-mesh.ts';
import { runMesh } from './helpers/mesh-cli.ts';

const NODE = 'topnode';
const ENDPOINTS = [0, 1, 2, 3].map((i) => `sim-${i}`);
let meshd: RunningMeshd;

before(async () => {
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    // In memory: a test's control records must not outlive it or land in the checkout.
    control: { store: { embedded: { path: ':memory:' } } },
    node: { id: NODE, roles: ['router', 'gpu'] },
    api: { port: 0 },
    metrics: { port: 0 },
    log: { level: 'silent' },
    router: { listen: { port: 0 } },
    gpu: {
      scrapeIntervalMs: 100,
      simulators: ENDPOINTS.map((name, i) => ({ name, timeScale: 50, seed: i + 1 })),
      telemetry: { source: 'sim', intervalMs: 50 },
      quarantine: { maxTemperatureC: 90 },
    },
  });
  meshd = await startMeshd(config, createLogger('silent'));
  await waitFor(
    () =>
      meshd.store.list().filter((s) => s.kvCacheUsage !== undefined).length === 4 &&
      meshd.gpus.list().length === 4,
    10_000,
    'four endpoints and four GPUs',
  );
});

after(async () => {
  await meshd.stop();
});

const top = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runMesh(['-e', meshd.apiUrl, 'top', ...args], env, 20_000);

test('mesh top --once prints the four endpoints and their GPUs with numbers', async () => {
  const [table, json, narrow] = await Promise.all([
    top(['--once']),
    top(['--once', '-o', 'json', '--metrics-url', meshd.metricsUrl]),
    top(['--once'], { COLUMNS: '72' }),
  ]);
  for (const run of [table, json, narrow]) assert.equal(run.code, 0, run.stderr);

  const lines = table.stdout.split('\n');
  assert.match(lines[0] ?? '', new RegExp(`^mesh top  ${meshd.apiUrl}  \\d{4}-\\d\\d-\\d\\dT`));
  assert.match(
    table.stdout,
    /nodes 1 \(1 healthy\) {2}gpus 4 \(0 quarantined\/out\) {2}endpoints 4 \(4 healthy\)/,
  );
  assert.ok(!table.stdout.includes('\u001b['), 'no ANSI codes with NO_COLOR and a pipe');
  for (const ep of ENDPOINTS) {
    const row = lines.find((l) => l.startsWith(`${NODE}/${ep} `));
    // ENDPOINT MODEL RUNTIME HEALTH QUEUE RUN KV PREFIX ...: health and numbers, not dashes.
    assert.match(row ?? '', /sim-llama-3-8b\s+vllm\s+healthy\s+\d+\s+\d+\s+\d+%\s+\S+/, `row of ${ep}`);
    const gpu = lines.find((l) => l.includes(simGpuUuid(NODE, ep)));
    // UTIL MEMORY TEMP POWER ...: percentages, GB used/total, degrees and watts.
    assert.match(gpu ?? '', /\d+%\s+\d+\.\d\/\d+\.\dGi\s+\d+C\s+\d+(\/\d+)?W.*\bok$/, `GPU of ${ep}`);
  }
  assert.ok(
    narrow.stdout.split('\n').every((l) => l.length <= 72),
    `every line fits COLUMNS=72:\n${narrow.stdout}`,
  );

  const snapshot = JSON.parse(json.stdout) as TopSnapshot;
  assert.equal(snapshot.endpoint, meshd.apiUrl);
  assert.deepEqual(
    snapshot.endpoints.map((e) => e.endpointId).sort(),
    ENDPOINTS.map((ep) => `${NODE}/${ep}`),
  );
  for (const e of snapshot.endpoints) {
    assert.equal(e.health, 'healthy');
    assert.equal(typeof e.queueDepth, 'number');
    assert.equal(typeof e.kvCacheUsage, 'number');
    // --metrics-url adds the router's own in-flight requests (none while no traffic runs).
    assert.equal(e.inFlight, 0);
  }
  assert.deepEqual(
    snapshot.gpus.map((g) => g.uuid).sort(),
    ENDPOINTS.map((ep) => simGpuUuid(NODE, ep)).sort(),
  );
  for (const g of snapshot.gpus) {
    for (const v of [g.utilization, g.memoryUsedBytes, g.memoryTotalBytes, g.temperatureC, g.powerWatts])
      assert.equal(typeof v, 'number');
    assert.equal(g.healthy, true);
  }
  assert.deepEqual(
    snapshot.nodes.map((n) => [n.id, n.status]),
    [[NODE, 'healthy']],
  );
});

test('mesh top (not --once) in a non-TTY prints --frames frames and exits by itself', async () => {
  const started = Date.now();
  const run = await top(['--frames', '3', '--interval', '100']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.match(/^mesh top /gm)?.length, 3, run.stdout);
  assert.ok(!run.stdout.includes('\u001b['), 'no screen control codes on a pipe');
  assert.ok(Date.now() - started < 15_000);

  const json = await top(['--frames', '2', '--interval', '100', '-o', 'json']);
  assert.equal(json.code, 0, json.stderr);
  const frames = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TopSnapshot);
  assert.equal(frames.length, 2);
  assert.ok(frames.every((f) => f.endpoints.length === 4));
});

// util-linux `script` gives the real process a pseudo-terminal: stdout and stdin are TTYs there.
const SCRIPT = '/usr/bin/script';

test(
  'on a terminal: full screen until q, then the terminal is given back',
  { skip: !existsSync(SCRIPT) },
  async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const mesh = `${process.execPath} bin/mesh.js -e ${meshd.apiUrl} top --interval 200`;
    const child = spawn(SCRIPT, ['-qfec', `stty cols 90 rows 40; exec ${mesh}`, '/dev/null'], {
      cwd: root,
      env: { ...process.env, MESH_ENDPOINT: '', NO_COLOR: '1', TERM: 'xterm' },
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(() => out.split('\u001b[H').length > 2, 15_000, 'two frames on the terminal');
    child.stdin.write('q');
    const code = await closed;
    clearTimeout(killer);
    assert.equal(code, 0, out);
    assert.ok(out.startsWith(ENTER_SCREEN), JSON.stringify(out.slice(0, 80)));
    assert.ok(out.endsWith(LEAVE_SCREEN), JSON.stringify(out.slice(-80)));
    assert.match(out, /every 0\.2s · q quits/);
    assert.ok(!out.includes('\u001b[3'), 'NO_COLOR: no colour even on a terminal');
    const frame = (out.split('\u001b[H').at(-1) ?? '').split('\u001b[J')[0] ?? '';
    for (const line of frame.split(/\r?\n/)) assert.ok(line.replace('\u001b[K', '').length <= 90, line);
    assert.match(frame, new RegExp(`${NODE}/sim-3`));
  },
);

test('a quarantined GPU is marked, with its reason, and so is its endpoint', async () => {
  const sim = simSourceOf(meshd.gpuTelemetry);
  assert.ok(sim, 'the sim GPU source runs');
  const hot = simGpuUuid(NODE, 'sim-0');
  sim.inject(hot, { temperatureC: 97 });
  await waitFor(() => meshd.gpuTelemetry!.quarantine.list().length === 1, 5000, 'quarantine');

  const [table, json] = await Promise.all([top(['--once']), top(['--once', '-o', 'json'])]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.split('\n');
  assert.match(
    lines.find((l) => l.includes(hot)) ?? '',
    /quarantined \(temperature: temperature 97 C >= 90 C\)$/,
  );
  assert.match(lines.find((l) => l.startsWith(`${NODE}/sim-0 `)) ?? '', /gpu out/);
  assert.match(table.stdout, /gpus 4 \(1 quarantined\/out\)/);

  const snapshot = JSON.parse(json.stdout) as TopSnapshot;
  const gpu = snapshot.gpus.find((g) => g.uuid === hot);
  assert.equal(gpu?.healthy, false);
  assert.match(gpu?.quarantineReason ?? '', /^temperature/);
  assert.ok(snapshot.gpus.filter((g) => g.uuid !== hot).every((g) => g.healthy));
});

test('mesh top against a node that does not answer fails like every command', async () => {
  const run = await runMesh(['-e', 'http://127.0.0.1:1', 'top', '--once']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^mesh: error: unavailable: cannot reach http:\/\/127\.0\.0\.1:1/);
  const usage = await runMesh(['top', '--interval', '5']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^mesh: error: usage: .*--interval/);
});
