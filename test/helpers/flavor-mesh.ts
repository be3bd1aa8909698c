/**
 * Test fixture: one in-process meshd (router + gpu) whose gpu role starts simulators of several
 * flavours (vLLM, TGI, Triton) from its config, every listener on port 0. Faults are injected
 * through each simulator's `POST /sim/fault`.
 *
 * A flavour whose runtime has no adapter registered yet would never appear in the state store,
 * so for those the fixture writes the record the adapter would write (healthy, loaded, with the
 * runtime's protocols). Once the adapter is registered the scraper's records are used instead.
 */
import { parseConfig } from '../../src/core/config.ts';
import type { Protocol, RuntimeKind } from '../../src/core/types.ts';
import { startMeshd, type RunningMeshd } from '../../src/agent/meshd.ts';
import { createLogger } from '../../src/observability/log.ts';
import { SUPPORTED_RUNTIMES } from '../../src/signal/runtime/adapters.ts';

export interface FlavorSim {
  name: string;
  model: string;
  flavor: 'vllm' | 'tgi' | 'triton';
}

export interface FlavorMesh {
  meshd: RunningMeshd;
  routerUrl: string;
  /** Simulator base URLs by name. */
  simUrl(name: string): string;
  /** The endpoint id a simulator has in the mesh (`test-node/<name>`). */
  endpointId(name: string): string;
  /** Runtimes whose records the fixture wrote itself (no adapter registered). */
  registeredByHand: RuntimeKind[];
  close(): Promise<void>;
}

/** The protocols the runtime adapters record for each flavour's runtime. */
const PROTOCOLS: Record<FlavorSim['flavor'], Protocol[]> = {
  vllm: ['openai'],
  tgi: ['tgi', 'openai'],
  triton: ['kserve-v2'],
};

export async function startFlavorMesh(sims: FlavorSim[], timeScale = 20): Promise<FlavorMesh> {
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    // In memory: a test's control records must not outlive it or land in the checkout.
    control: { store: { embedded: { path: ':memory:' } } },
    node: { id: 'test-node', roles: ['router', 'gpu'] },
    api: { port: 0 },
    metrics: { port: 0 },
    log: { level: 'silent' },
    router: { listen: { port: 0 } },
    gpu: {
      scrapeIntervalMs: 100,
      simulators: sims.map((s, i) => ({ ...s, timeScale, seed: i + 1 })),
    },
  });
  const meshd = await startMeshd(config, createLogger('silent'));
  const urls = new Map(meshd.simulatorUrls.map((s) => [s.name, s.url]));
  const simUrl = (name: string) => urls.get(name) ?? '';
  const registeredByHand = new Set<RuntimeKind>();
  for (const sim of sims) {
    if (SUPPORTED_RUNTIMES.includes(sim.flavor)) continue;
    registeredByHand.add(sim.flavor);
    meshd.store.upsert({
      endpointId: `test-node/${sim.name}`,
      endpointUrl: simUrl(sim.name),
      node: 'test-node',
      model: sim.model,
      runtime: sim.flavor,
      health: 'healthy',
      loaded: true,
      warming: false,
      protocols: PROTOCOLS[sim.flavor],
      updatedAt: Date.now(),
    });
  }
  return {
    meshd,
    routerUrl: meshd.routerUrl!,
    simUrl,
    endpointId: (name) => `test-node/${name}`,
    registeredByHand: [...registeredByHand],
    close: () => meshd.stop(),
  };
}

/** Injects a fault into a simulator over HTTP (every flavour serves `/sim/fault`). */
export async function setSimFault(url: string, mode: string, count = 1): Promise<void> {
  const res = await fetch(`${url}/sim/fault`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode, count }),
  });
  if (!res.ok) throw new Error(`setting fault ${mode} failed: ${res.status} ${await res.text()}`);
}
