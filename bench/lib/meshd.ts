/**
 * meshd as the benchmarks run it: its own process under `taskset`, roles router + gpu, with one
 * runtime endpoint (the benchmark backend, scraped as vLLM) and `router.workers` set; ready once
 * the router lists the backend's model, so the first measured request is routable.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CoreSet } from './cores.ts';
import { MODEL } from './fake-vllm.ts';
import { freePort } from './ports.ts';
import { spawnPinned, tempDir, type Pinned } from './procs.ts';

const root = new URL('../../', import.meta.url).pathname;

export interface MeshdOptions {
  cores: CoreSet;
  workers: number | 'auto';
  backendUrl: string;
  /** Extra `router` keys (e.g. drainTimeoutMs). */
  router?: Record<string, unknown>;
  /** Admission off: one endpoint carrying thousands of streams would be refused as overloaded. */
  admission?: boolean;
}

export interface BenchMeshd extends Pinned {
  url: string;
}

export async function startMeshd(opts: MeshdOptions): Promise<BenchMeshd> {
  const port = await freePort();
  const dir = tempDir('meshd');
  const config = {
    apiVersion: 'infermesh/v1',
    node: { id: 'bench', roles: ['router', 'gpu'], dataDir: join(dir, 'data') },
    api: { port: 0 },
    metrics: { port: 0 },
    log: { level: 'warn' },
    router: { listen: { host: '127.0.0.1', port }, workers: opts.workers, ...opts.router },
    scoring: { admission: { enabled: opts.admission ?? true } },
    gpu: { runtimes: [{ name: 'backend', runtime: 'vllm', url: opts.backendUrl }] },
  };
  const file = join(dir, 'meshd.yaml');
  writeFileSync(file, stringify(config));
  const url = `http://127.0.0.1:${port}`;
  const meshd = await spawnPinned({
    name: `meshd (workers ${opts.workers})`,
    cores: opts.cores,
    command: process.execPath,
    args: ['bin/meshd.js', 'start', '--config', file],
    cwd: root,
    // Every worker listens once meshd says it is up: a probe answered earlier may be the first
    // worker's alone.
    ready: ' is up (roles',
  });
  await waitForModel(url);
  return { ...meshd, url };
}

/** Until the router lists the backend's model (its first scrape), so the first request routes. */
async function waitForModel(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/v1/models`, { signal: AbortSignal.timeout(1_000) }).catch(
      () => undefined,
    );
    const list = (await res?.json().catch(() => undefined)) as { data?: { id: string }[] } | undefined;
    if (list?.data?.some((m) => m.id === MODEL)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`meshd at ${url} did not list ${MODEL} within ${timeoutMs} ms`);
}
