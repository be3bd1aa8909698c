// The full-screen loop of `mesh top` in-process, against a real API server, with a terminal
// that records what is written: the alternate screen is entered and always left again (q,
// Ctrl-C as a raw byte, the abort main.ts sends on SIGINT/SIGTERM), a resize redraws at the new
// width, and a node that stops answering leaves the last frame up with a note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createApiServer, type ApiServer } from '../../agent/api-server.ts';
import { controlPlaneRoutes } from '../../control/control-plane-service.ts';
import { memoryControlRecords } from '../../control/testing/memory-records.ts';
import { statePlaneRoutes } from '../../signal/state/state-plane-service.ts';
import { createGpuStore } from '../../signal/state/gpu-store.ts';
import { createStateStore } from '../../signal/state/state-store.ts';
import { createMeshClients } from '../client.ts';
import { top } from '../commands/top.ts';
import type { CommandOutput } from '../runner.ts';
import { ENTER_SCREEN, LEAVE_SCREEN, type TopTerminal } from './terminal.ts';
import { visibleLength } from './table.ts';

async function startApi(): Promise<ApiServer> {
  const store = createStateStore();
  store.upsert({
    endpointId: 'n1/vllm-0',
    endpointUrl: 'http://127.0.0.1:8001',
    node: 'n1',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    runtime: 'vllm',
    health: 'healthy',
    loaded: true,
    warming: false,
    queueDepth: 2,
    running: 9,
    kvCacheUsage: 0.5,
    updatedAt: Date.now(),
  });
  const gpus = createGpuStore();
  gpus.upsert({
    uuid: 'GPU-0000-n1',
    index: 0,
    name: 'NVIDIA H100 80GB HBM3',
    node: 'n1',
    smUtilization: 0.9,
    temperatureC: 70,
    healthy: true,
    updatedAt: Date.now(),
    source: 'sim',
  });
  const records = await memoryControlRecords();
  const nodes = () => [
    {
      id: 'n1',
      roles: ['router' as const, 'gpu' as const],
      zone: 'z',
      labels: {},
      status: 'healthy' as const,
      lastSeen: Date.now(),
      version: '0.1.0',
      apiUrl: '',
    },
  ];
  return createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: (r) => {
      statePlaneRoutes({ store, gpus, nodeId: 'n1' })(r);
      controlPlaneRoutes({ nodes, modelStates: () => store.list(), records })(r);
    },
  });
}

/** A TTY that records output, raw-mode switches and the exit hook. */
function fakeTerminal() {
  const stdout = Object.assign(new EventEmitter(), {
    isTTY: true,
    columns: 120,
    rows: 40,
    text: '',
    write(t: string) {
      stdout.text += t;
      return true;
    },
  });
  const raw: boolean[] = [];
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    setRawMode: (on: boolean) => raw.push(on),
    resume: () => stdin,
    pause: () => stdin,
  });
  let exitHooks = 0;
  const terminal: TopTerminal = {
    stdout,
    stdin,
    env: { TERM: 'xterm' },
    onExit: () => {
      exitHooks++;
      return () => exitHooks--;
    },
  };
  return { terminal, stdout, stdin, raw, exitHooks: () => exitHooks };
}

const output = (signal: AbortSignal): CommandOutput => ({
  format: 'table',
  signal,
  revision: () => undefined,
  render: () => undefined,
  write: () => undefined,
});

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const frames = (text: string) => text.split('\u001b[H').length - 1;
/** The lines of the last frame drawn, colour codes kept. */
const lastFrame = (text: string) => (text.split('\u001b[H').at(-1) ?? '').split('\u001b[J')[0]!.split('\n');

for (const key of ['q', '\u0003']) {
  test(`full screen: drawn on the alternate screen, redrawn on resize, ${JSON.stringify(key)} restores the terminal`, async (t) => {
    const api = await startApi();
    t.after(() => api.close());
    const term = fakeTerminal();
    const running = top(
      createMeshClients(api.url, 2000),
      { interval: 60_000 },
      output(new AbortController().signal),
      { endpoint: api.url, timeoutMs: 2000, terminal: term.terminal },
    );
    await until(() => frames(term.stdout.text) === 1, 'the first frame');
    assert.ok(term.stdout.text.startsWith(ENTER_SCREEN));
    assert.deepEqual(term.raw, [true]);
    assert.equal(term.exitHooks(), 1);
    const first = lastFrame(term.stdout.text);
    assert.match(first[0] ?? '', /^mesh top {2}http:.*every 60s · q quits/);
    assert.ok(
      first.some((l) => l.includes('\u001b[32mhealthy')),
      'coloured on a TTY without NO_COLOR',
    );

    term.stdout.columns = 50;
    term.stdout.emit('resize');
    assert.equal(frames(term.stdout.text), 2, 'a resize redraws at once, from the last snapshot');
    for (const l of lastFrame(term.stdout.text)) assert.ok(visibleLength(l.replace('\u001b[K', '')) <= 50, l);

    term.stdin.emit('data', Buffer.from(key));
    await running;
    assert.ok(term.stdout.text.endsWith(LEAVE_SCREEN));
    assert.deepEqual(term.raw, [true, false]);
    assert.equal(term.exitHooks(), 0);
    assert.equal(term.stdin.listenerCount('data'), 0);
    assert.equal(term.stdout.listenerCount('resize'), 0);
  });
}

test('full screen: the abort main.ts sends on SIGTERM restores the terminal; a silent node keeps the last frame', async (t) => {
  const api = await startApi();
  t.after(() => api.close());
  const term = fakeTerminal();
  const stop = new AbortController();
  const running = top(createMeshClients(api.url, 500), { interval: 100 }, output(stop.signal), {
    endpoint: api.url,
    timeoutMs: 500,
    terminal: term.terminal,
  });
  await until(() => frames(term.stdout.text) >= 1, 'the first frame');
  await api.close();
  await until(() => lastFrame(term.stdout.text)[0]?.includes('no answer') ?? false, 'the note');
  assert.ok(
    lastFrame(term.stdout.text).some((l) => l.startsWith('n1/vllm-0')),
    'the last rows stay',
  );
  stop.abort();
  await running;
  assert.ok(term.stdout.text.endsWith(LEAVE_SCREEN));
  assert.deepEqual(term.raw, [true, false]);
});
