// Regressions from the bad-input and fault probe of the data plane, each on real sockets against
// an in-process meshd (one router thread, so its warnings and logs are this process's).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startMeshd, type RunningMeshd } from '../src/agent/meshd.ts';
import { parseConfig } from '../src/core/config.ts';
import { startScriptedBackend, type ScriptedBackend } from './helpers/scripted-backend.ts';
import { waitFor } from './helpers/local-mesh.ts';

const MODEL = 'scripted';
/** Bytes the flood stream sends: more than every socket buffer on the way can hold. */
const FLOOD_BYTES = 48 * 1024 * 1024;
const CHUNK = Buffer.from(`data: ${JSON.stringify({ text: 'x'.repeat(8000) })}\n\n`);

let meshd: RunningMeshd;
let backend: ScriptedBackend;
let blockedWrites = 0;
let floodSent = 0;
const logLines: string[] = [];
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);

before(async () => {
  process.on('warning', onWarning);
  backend = await startScriptedBackend(MODEL, (_req, res, body) => {
    const { mode } = JSON.parse(body) as { mode: string };
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (mode === 'cut') {
      res.write('data: {"text":"one"}\n\n');
      res.write('data: {"text":"two"}\n\n', () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    // Flood: write as fast as the router takes it, waiting for drain (backpressure) when told.
    let sent = 0;
    const pump = () => {
      while (sent < FLOOD_BYTES) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) {
          blockedWrites++;
          res.once('drain', pump);
          return;
        }
      }
      floodSent = sent + 'data: [DONE]\n\n'.length;
      res.end('data: [DONE]\n\n');
    };
    pump();
  });
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    // In memory: a test's control records must not outlive it or land in the checkout.
    control: { store: { embedded: { path: ':memory:' } } },
    node: { id: 'hard', roles: ['router', 'gpu'] },
    api: { port: 0 },
    metrics: { port: 0 },
    router: { listen: { port: 0 }, workers: 1, maxBodyBytes: 2 * 1024 * 1024 },
    gpu: { scrapeIntervalMs: 100, runtimes: [{ name: 'b0', url: backend.url, runtime: 'vllm' }] },
  });
  meshd = await startMeshd(config, pino({ level: 'debug' }, logStream));
  await waitFor(
    async () => (await fetch(`${meshd.routerUrl}/v1/models`)).ok && meshd.store.list().length > 0,
  );
});
after(async () => {
  process.off('warning', onWarning);
  await meshd.stop();
  await backend.close();
});

const metricsText = async () => (await fetch(`${meshd.metricsUrl}/metrics`)).text();

test('a slow client holds the upstream back (backpressure) without one listener per wait', async () => {
  const body = JSON.stringify({ model: MODEL, prompt: 'p', stream: true, mode: 'flood' });
  let received = 0;
  let tail = '';
  await new Promise<void>((resolve, reject) => {
    const req = request(`${meshd.routerUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      // Read nothing for a while: every buffer on the way fills and the backend must wait.
      res.pause();
      setTimeout(() => {
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          tail = (tail + chunk.toString('latin1')).slice(-32);
          // Then read in small sips, so the router waits on this client many times over.
          res.pause();
          setImmediate(() => res.resume());
        });
        res.resume();
      }, 1000);
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(received, floodSent);
  assert.match(tail, /data: \[DONE\]\n\n$/);
  assert.ok(blockedWrites > 0, 'the backend was made to wait');
  assert.deepEqual(
    warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
    [],
  );
});

test('an unknown 900 KB model name is a short 404, labelled `unknown`, and logged short', async () => {
  const name = 'm'.repeat(900_000);
  const res = await fetch(`${meshd.routerUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: name, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const text = await res.text();
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('mesh-error-code'), 'model_not_found');
  assert.ok(text.length < 600, `error body of ${text.length} bytes`);
  assert.match(text, /\(900000 characters\)/);
  const metrics = await metricsText();
  assert.match(
    metrics,
    /^infermesh_router_requests_total\{model="unknown",endpoint="none",status="404",code="model_not_found"\} 1$/m,
  );
  assert.ok(metrics.split('\n').every((line) => line.length < 1000));
  assert.ok(logLines.some((l) => l.includes('"code":"model_not_found"')));
  assert.ok(logLines.every((l) => l.length < 2000));
});

test('a client hanging up mid-upload is a cancelled 499, not an internal 500', async () => {
  const socket = connect(new URL(meshd.routerUrl!).port as unknown as number, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model":',
  );
  await new Promise((r) => setTimeout(r, 50));
  socket.destroy();
  await waitFor(async () => /status="499",code="cancelled"\} 1$/m.test(await metricsText()), 3000);
  assert.ok(!logLines.some((l) => l.includes('"level":50')), 'no error-level log line');
});

test('a stream cut mid-way ends with an error event and [DONE] and counts as failed, with its reason', async () => {
  const res = await fetch(`${meshd.routerUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt: 'p', stream: true, mode: 'cut' }),
  });
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.match(text, /^data: \{"text":"one"\}\n\ndata: \{"text":"two"\}\n\n/);
  assert.match(
    text,
    /data: \{"error":\{"message":"upstream failed mid-stream: [^"]*","type":"upstream_error","param":null,"code":"upstream_error"\}\}\n\ndata: \[DONE\]\n\n$/,
  );
  assert.match(
    await metricsText(),
    /^infermesh_router_requests_total\{model="scripted",endpoint="hard\/b0",status="502",code="upstream_error"\} 1$/m,
  );
});
