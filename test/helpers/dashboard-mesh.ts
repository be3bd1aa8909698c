/**
 * Test fixture: the node `npm start` runs (deploy/examples/local.yaml: router + gpu, four simulated
 * endpoints on four simulated GPUs), in this process with every port 0, an in-memory control
 * store and silent logs; `overrides.router` is merged over the file's router section, `overrides.gpu`
 * replaces its gpu section.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startMeshd, type RunningMeshd } from '../../src/agent/meshd.ts';
import { parseConfig, type ConfigInput } from '../../src/core/config.ts';
import { createLogger } from '../../src/observability/log.ts';

const LOCAL_YAML = new URL('../../deploy/examples/local.yaml', import.meta.url);

/** The simulators local.yaml names, in order. */
export const LOCAL_SIMULATORS = ['sim-h100-0', 'sim-h100-1', 'sim-a100-0', 'sim-a100-1'];

export async function startLocalExample(
  overrides: Pick<ConfigInput, 'router' | 'gpu'> = {},
): Promise<RunningMeshd> {
  const raw = parse(readFileSync(LOCAL_YAML, 'utf8')) as Record<string, Record<string, unknown>>;
  const config = parseConfig({
    ...raw,
    router: { ...raw.router, listen: { host: '127.0.0.1', port: 0 }, ...overrides.router },
    api: { host: '127.0.0.1', port: 0 },
    metrics: { host: '127.0.0.1', port: 0 },
    // In memory: a test's control records must not outlive it or land in the checkout.
    control: { store: { embedded: { path: ':memory:' } } },
    log: { level: 'silent' },
    ...(overrides.gpu ? { gpu: overrides.gpu } : {}),
  });
  return startMeshd(config, createLogger('silent'));
}

/** One chat completion through the router (streamed unless `stream` is false); resolves with the status. */
export async function chat(
  routerUrl: string,
  opts: { requestId?: string; stream?: boolean; maxTokens?: number } = {},
): Promise<number> {
  const res = await fetch(`${routerUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.requestId ? { 'x-request-id': opts.requestId } : {}),
    },
    body: JSON.stringify({
      model: 'sim-llama-3-8b',
      messages: [{ role: 'user', content: 'Tell me about GPU meshes, briefly.' }],
      max_tokens: opts.maxTokens ?? 16,
      stream: opts.stream ?? true,
    }),
  });
  await res.arrayBuffer();
  return res.status;
}
