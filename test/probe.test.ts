/**
 * `meshd probe` as a real process against a simulator the test starts: it detects vLLM and prints
 * the same records the gpu role's scraper puts in the state store (updatedAt excluded).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { ModelState } from '../src/core/types.ts';
import { createLogger } from '../src/observability/log.ts';
import { createRuntimeScraper } from '../src/signal/runtime/scraper.ts';
import { startFakeTgi } from '../src/signal/runtime/testing/fake-tgi-server.ts';
import { closedPort } from '../src/signal/runtime/testing/fake-vllm-server.ts';
import { createStateStore } from '../src/signal/state/state-store.ts';
import { createSimServer, type SimServer } from '../src/sim/server.ts';

const root = new URL('../', import.meta.url).pathname;

/** Runs `meshd probe …`; bounded by a kill after 20 s. */
function probe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/meshd.js', 'probe', ...args],
      { cwd: root, timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const withoutTime = ({ updatedAt: _t, ...rest }: ModelState) => rest;

let sim: SimServer;
before(async () => {
  sim = await createSimServer({ host: '127.0.0.1', port: 0, model: 'sim-probe', seed: 7 });
});
after(() => sim.close());

describe('meshd probe', () => {
  it('detects the simulator as vLLM and prints the record the scraper stores', async () => {
    const store = createStateStore();
    const scraper = createRuntimeScraper({
      node: 'n1',
      endpoints: [{ name: 'sim', runtime: 'vllm', url: sim.url }],
      intervalMs: 1000,
      timeoutMs: 5000,
      unhealthyAfter: 3,
      store,
      logger: createLogger('silent'),
    });
    await scraper.scrapeOnce();
    await scraper.stop();
    const stored = store.list();
    assert.equal(stored.length, 1);

    const { code, stdout, stderr } = await probe([sim.url, '--node', 'n1', '--name', 'sim', '-o', 'json']);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as { runtime: string; endpoint: string; models: ModelState[] };
    assert.equal(out.runtime, 'vllm');
    assert.equal(out.endpoint, sim.url);
    assert.deepEqual(out.models.map(withoutTime), stored.map(withoutTime));
    assert.equal(out.models[0]?.model, 'sim-probe');
    assert.equal(typeof out.models[0]?.updatedAt, 'number');
  });

  it('prints a table, and takes --runtime without detecting', async () => {
    const tgi = await startFakeTgi({
      metrics: '# TYPE tgi_queue_size gauge\ntgi_queue_size 4\n',
      modelId: 'org/tgi-model',
    });
    try {
      const { code, stdout } = await probe([tgi.url, '--runtime', 'tgi']);
      assert.equal(code, 0);
      assert.match(stdout, /MODEL\s+LOADED\s+QUEUE/);
      assert.match(stdout, /org\/tgi-model\s+yes\s+4/);
      assert.match(stdout, /tgi at .* \(given\), health healthy/);
      assert.equal(tgi.hits.get('GET /get_model_info'), undefined, 'no detection when --runtime is given');
    } finally {
      await tgi.close();
    }
  });

  it('fails with a stable code when nothing answers', async () => {
    const url = await closedPort();
    const { code, stderr } = await probe([url, '--timeout', '500']);
    assert.equal(code, 1);
    assert.match(stderr, /meshd: unavailable: /);
  });
});
