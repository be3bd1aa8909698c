/**
 * Test fixture for scoring and admission: simulators of one GPU profile (a balanced fleet) on
 * port 0 and one in-process meshd (router + gpu) with the given `scoring` config, its router and
 * its gRPC API on port 0. Unlike `local-mesh.ts`, the fleet is homogeneous, so only the request
 * and the router's own state tell endpoints apart.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { startMeshd, type RunningMeshd } from '../../src/agent/meshd.ts';
import { parseConfig, type ConfigInput } from '../../src/core/config.ts';
import { Scoring } from '../../src/gen/infermesh/scoring/v1/scoring_pb.js';
import { createLogger } from '../../src/observability/log.ts';
import { createSimServer, type SimServer } from '../../src/sim/server.ts';
import { waitFor } from './local-mesh.ts';

export const MODEL = 'sim-llama-3-8b';

export interface ScoringMesh {
  meshd: RunningMeshd;
  sims: SimServer[];
  routerUrl: string;
  /** `infermesh.scoring.v1.Scoring` over gRPC on meshd's API port. */
  scoring: Client<typeof Scoring>;
  /** Endpoint id of simulator `i` as the router names it. */
  endpointId(i: number): string;
  close(): Promise<void>;
}

export async function startScoringMesh(options: {
  sims: number;
  timeScale: number;
  scoring?: NonNullable<ConfigInput['scoring']>;
}): Promise<ScoringMesh> {
  const sims: SimServer[] = [];
  for (let i = 0; i < options.sims; i++) {
    sims.push(
      await createSimServer({
        host: '127.0.0.1',
        port: 0,
        model: MODEL,
        profile: 'h100',
        timeScale: options.timeScale,
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
    router: { listen: { port: 0 } },
    scoring: options.scoring ?? {},
    gpu: {
      scrapeIntervalMs: 50,
      runtimes: sims.map((s, i) => ({ name: `sim-${i}`, url: s.url, runtime: 'vllm' as const })),
    },
  });
  const meshd = await startMeshd(config, createLogger('silent'));
  await waitFor(
    () => meshd.store.list({ model: MODEL }).filter((s) => s.loaded).length === sims.length,
    5000,
    'every simulator scraped',
  );
  return {
    meshd,
    sims,
    routerUrl: meshd.routerUrl!,
    scoring: createClient(Scoring, createGrpcTransport({ baseUrl: meshd.apiUrl })),
    endpointId: (i) => `test-node/sim-${i}`,
    async close() {
      await meshd.stop();
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}

/** A chat completion request body whose prompt is `text`. */
export const chatBody = (text: string, maxTokens = 8) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: text }], max_tokens: maxTokens });
