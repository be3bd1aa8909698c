/**
 * Test fixture: N simulators on port 0 and one in-process meshd (router + gpu) scraping them,
 * every listener on port 0. The test owns the simulators, so it can inject faults and read stats.
 */
import { parseConfig, type ConfigInput } from '../../src/core/config.ts';
import { startMeshd, type RunningMeshd } from '../../src/agent/meshd.ts';
import { createLogger } from '../../src/observability/log.ts';
import { createSimServer, type SimServer } from '../../src/sim/server.ts';

export interface LocalMesh {
  meshd: RunningMeshd;
  sims: SimServer[];
  routerUrl: string;
  close(): Promise<void>;
}

export interface LocalMeshOptions {
  sims?: number;
  model?: string;
  timeScale?: number;
  router?: NonNullable<ConfigInput['router']>;
  scoring?: NonNullable<ConfigInput['scoring']>;
  gpu?: Omit<NonNullable<ConfigInput['gpu']>, 'runtimes' | 'simulators'>;
}

export async function startLocalMesh(options: LocalMeshOptions = {}): Promise<LocalMesh> {
  const model = options.model ?? 'sim-llama-3-8b';
  const sims: SimServer[] = [];
  for (let i = 0; i < (options.sims ?? 2); i++) {
    sims.push(
      await createSimServer({
        host: '127.0.0.1',
        port: 0,
        model,
        profile: i % 2 === 0 ? 'h100' : 'a100',
        timeScale: options.timeScale ?? 20,
        seed: i + 1,
      }),
    );
  }
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    // In memory: a test's control records must not outlive it or land in the checkout.
    control: { store: { embedded: { path: ':memory:' } } },
    node: { id: 'test-node', roles: ['router', 'gpu'] },
    api: { port: 0 },
    metrics: { port: 0 },
    log: { level: 'silent' },
    router: { listen: { port: 0 }, ...options.router },
    ...(options.scoring ? { scoring: options.scoring } : {}),
    gpu: {
      scrapeIntervalMs: 100,
      ...options.gpu,
      runtimes: sims.map((s, i) => ({ name: `sim-${i}`, url: s.url, runtime: 'vllm' as const })),
    },
  });
  const meshd = await startMeshd(config, createLogger('silent'));
  return {
    meshd,
    sims,
    routerUrl: meshd.routerUrl!,
    async close() {
      await meshd.stop();
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes (bounded: tests never spin forever). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
