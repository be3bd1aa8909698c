// A client that disconnects mid-stream must reach the simulator as a cancellation, at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startLocalMesh, waitFor, type LocalMesh } from './helpers/local-mesh.ts';

let mesh: LocalMesh;
before(async () => {
  // Real-time pace so the stream is still running when the client leaves.
  mesh = await startLocalMesh({ sims: 1, timeScale: 1 });
});
after(() => mesh.close());

test('client disconnect mid-stream cancels the upstream request', async () => {
  const sim = mesh.sims[0]!;
  const before = sim.engine.stats().cancelled;
  const body = JSON.stringify({
    model: 'sim-llama-3-8b',
    messages: [{ role: 'user', content: 'write a long story' }],
    max_tokens: 2000,
    stream: true,
  });
  await new Promise<void>((resolve, reject) => {
    const req = request(`${mesh.routerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      assert.equal(res.statusCode, 200);
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end(body);
  });
  await waitFor(
    () => sim.engine.stats().cancelled === before + 1,
    3000,
    'the simulator to see the cancellation',
  );
  await waitFor(() => sim.engine.stats().running === 0, 3000, 'the request to leave the batch');
  assert.equal(sim.engine.stats().completed, 0);
});
