// SIGTERM drains a real meshd process: it turns not-ready and stops accepting, streams that end
// within router.drainTimeoutMs end normally, the rest get the protocol's error event and
// `data: [DONE]` (never a bare reset), and the process logs what it cut and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { spawnMeshd } from './helpers/processes.ts';

const listen0 = { host: '127.0.0.1', port: 0 };

/** A streamed chat completion; `started` resolves at the first chunk, `done` with the whole body. */
function openStream(routerUrl: string, maxTokens: number) {
  const body = JSON.stringify({
    model: 'sim-llama-3-8b',
    messages: [{ role: 'user', content: 'tell me a story' }],
    max_tokens: maxTokens,
    stream: true,
  });
  let started!: () => void;
  const firstChunk = new Promise<void>((resolve) => (started = resolve));
  const done = new Promise<{ text: string; reset: boolean }>((resolve) => {
    let text = '';
    const req = request(`${routerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        started();
      });
      res.on('end', () => resolve({ text, reset: false }));
      res.on('error', () => resolve({ text, reset: true }));
    });
    req.on('error', () => resolve({ text, reset: true }));
    req.end(body);
  });
  return { firstChunk, done };
}

for (const workers of [1, 2]) {
  test(`SIGTERM with ${workers} worker(s): short streams finish, long ones end with an error event and [DONE]`, async () => {
    const meshd = await spawnMeshd({
      apiVersion: 'infermesh/v1',
      node: { id: 'drainer', roles: ['router', 'gpu'] },
      api: listen0,
      metrics: listen0,
      log: { level: 'info' },
      router: { listen: listen0, workers, drainTimeoutMs: 2000 },
      // Real-time simulators: a 60-token answer takes well under the drain timeout, 5,000 tokens far more.
      gpu: {
        scrapeIntervalMs: 100,
        simulators: [0, 1].map((i) => ({ name: `h100-${i}`, profile: 'h100', timeScale: 1, seed: i + 1 })),
      },
    });
    try {
      const short = Array.from({ length: 6 }, () => openStream(meshd.urls.router, 60));
      const long = Array.from({ length: 3 }, () => openStream(meshd.urls.router, 5000));
      await Promise.all([...short, ...long].map((s) => s.firstChunk));

      const exit = once(meshd.child, 'exit') as Promise<[number | null]>;
      meshd.child.kill('SIGTERM');
      // Not ready while draining, and no new requests.
      let sawNotReady = false;
      for (let i = 0; i < 40 && !sawNotReady; i++) {
        const res = await fetch(`${meshd.urls.metrics}/readyz`).catch(() => undefined);
        sawNotReady = res?.status === 503;
        if (!sawNotReady) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(sawNotReady, '/readyz answers 503 during the drain');
      const late = await fetch(`${meshd.urls.router}/v1/models`).then(
        (r) => r.status,
        () => 'refused',
      );
      assert.ok(late === 'refused' || late === 503, `a new request during the drain: ${late}`);

      for (const s of short) {
        const { text, reset } = await s.done;
        assert.equal(reset, false);
        assert.match(text, /"finish_reason":"length"/);
        assert.doesNotMatch(text, /"error"/);
        assert.match(text, /data: \[DONE\]\n\n$/);
      }
      for (const s of long) {
        const { text, reset } = await s.done;
        assert.equal(reset, false, 'a cut stream is ended, not reset');
        assert.match(
          text,
          /data: \{"error":\{"message":"the router shut down[^"]*","type":"service_unavailable_error","param":null,"code":"unavailable"\}\}\n\ndata: \[DONE\]\n\n$/,
        );
      }
      const [code] = await exit;
      assert.equal(code, 0);
      // In flight at the SIGTERM: the 3 long streams and whichever short ones had not ended yet.
      const drained = /"inFlight":(\d+),"cut":3,"msg":"router drained"/.exec(meshd.output());
      assert.ok(drained, 'the drain logs 3 streams cut');
      assert.ok(Number(drained[1]) >= 3 && Number(drained[1]) <= 9, `in flight at SIGTERM: ${drained[1]}`);
    } finally {
      await meshd.stop();
    }
  });
}
