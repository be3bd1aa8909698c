// GPU quarantine end to end: a meshd (router + gpu, two simulated endpoints on two simulated GPUs)
// quarantines the GPU whose simulated temperature crosses the policy's limit; its endpoint then
// gets no traffic until `mesh quarantine release` (a real process) puts it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simSourceOf } from '../src/agent/gpu-telemetry-role.ts';
import { startMeshd } from '../src/agent/meshd.ts';
import { parseConfig } from '../src/core/config.ts';
import { createLogger } from '../src/observability/log.ts';
import { simGpuUuid } from '../src/signal/gpu/sim/source.ts';
import { waitFor } from './helpers/local-mesh.ts';
import { runMesh } from './helpers/mesh-cli.ts';

const mesh = (args: string[]) => runMesh(args);

test('a quarantined GPU’s endpoint gets no traffic until `mesh quarantine release`', async () => {
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    // In memory: a test's control records must not outlive it or land in the checkout.
    control: { store: { embedded: { path: ':memory:' } } },
    node: { id: 'qnode', roles: ['router', 'gpu'] },
    api: { port: 0 },
    metrics: { port: 0 },
    log: { level: 'silent' },
    router: { listen: { port: 0 } },
    gpu: {
      scrapeIntervalMs: 100,
      simulators: [
        { name: 'sim-0', timeScale: 50, seed: 1 },
        { name: 'sim-1', timeScale: 50, seed: 2 },
      ],
      telemetry: { source: 'sim', intervalMs: 50 },
      quarantine: { maxTemperatureC: 90 },
    },
  });
  const meshd = await startMeshd(config, createLogger('silent'));
  try {
    const sim = simSourceOf(meshd.gpuTelemetry);
    assert.ok(sim, 'the sim GPU source runs');
    const hot = simGpuUuid('qnode', 'sim-0');
    const served = async () => {
      const text = await (await fetch(`${meshd.metricsUrl}/metrics`)).text();
      const count = (ep: string) =>
        [
          ...text.matchAll(
            new RegExp(`^infermesh_router_requests_total\\{[^}]*endpoint="qnode/${ep}"[^}]*\\} (\\d+)`, 'gm'),
          ),
        ]
          .map((m) => Number(m[1]))
          .reduce((a, b) => a + b, 0);
      return { sim0: count('sim-0'), sim1: count('sim-1'), text };
    };
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${meshd.routerUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'sim-llama-3-8b',
            messages: [{ role: 'user', content: 'hi' }],
            max_tokens: 2,
          }),
        });
        assert.equal(res.status, 200, await res.text());
      }
    };
    await waitFor(() => meshd.store.list().length === 2 && meshd.gpus.list().length === 2, 5000, 'state');

    sim.inject(hot, { temperatureC: 97 });
    await waitFor(() => meshd.gpuTelemetry!.quarantine.list().length === 1, 5000, 'quarantine');
    assert.equal(meshd.gpus.get('qnode', hot)!.healthy, false);
    const listed = await mesh(['-e', meshd.apiUrl, '-o', 'json', 'quarantine', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    const { gpus } = JSON.parse(listed.stdout) as {
      gpus: Array<{ gpuUuid: string; reason: string; detail: string }>;
    };
    assert.deepEqual(
      gpus.map((g) => [g.gpuUuid, g.reason, g.detail]),
      [[hot, 'temperature', 'temperature 97 C >= 90 C']],
    );
    const quarantinedMetric = (await served()).text;
    assert.match(
      quarantinedMetric,
      new RegExp(`infermesh_gpu_quarantined\\{node="qnode",gpu_uuid="${hot}",reason="temperature"\\} 1`),
    );

    // The GPU cools down, but with coolDownMs 0 only the operator brings it back.
    sim.clear(hot);
    const before = await served();
    await send(12);
    const during = await served();
    assert.equal(during.sim0 - before.sim0, 0, 'no request reached the quarantined GPU’s endpoint');
    assert.equal(during.sim1 - before.sim1, 12);

    const released = await mesh(['-e', meshd.apiUrl, 'quarantine', 'release', hot]);
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, new RegExp(hot));
    assert.equal(meshd.gpus.get('qnode', hot)!.healthy, true);
    await waitFor(
      async () => {
        await send(4);
        return (await served()).sim0 > during.sim0;
      },
      10_000,
      'traffic back on the released GPU’s endpoint',
    );
    assert.doesNotMatch((await served()).text, /infermesh_gpu_quarantined\{/);

    const again = await mesh(['-e', meshd.apiUrl, 'quarantine', 'release', hot]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not_found|not quarantined/);
  } finally {
    await meshd.stop();
  }
});
