import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { ModelState } from '../core/types.ts';
import { ModelStatus } from '../gen/infermesh/control/v1/control_pb.js';
import { aggregateModels } from './models.ts';

const state = (endpointId: string, model: string, extra: Partial<ModelState> = {}): ModelState => ({
  endpointId,
  endpointUrl: 'http://x',
  node: endpointId.split('/')[0]!,
  model,
  runtime: 'vllm',
  health: 'healthy',
  loaded: false,
  warming: false,
  updatedAt: 1000,
  ...extra,
});

test('one model per name: status from its endpoints, sorted nodes and runtimes', () => {
  const models = aggregateModels([
    state('n2/a', 'llama', { loaded: true, updatedAt: 3000 }),
    state('n1/a', 'llama', { runtime: 'sglang' }),
    state('n1/b', 'llama', { loaded: true }),
    state('n1/a', 'qwen', { warming: true }),
    state('n3/a', 'mistral'),
  ]);
  assert.deepEqual(
    models.map((m) => [m.name, m.status, m.runtime, m.nodes, m.endpoints]),
    [
      ['llama', ModelStatus.LOADED, 'sglang,vllm', ['n1', 'n2'], 3],
      ['mistral', ModelStatus.AVAILABLE, 'vllm', ['n3'], 1],
      ['qwen', ModelStatus.LOADING, 'vllm', ['n1'], 1],
    ],
  );
  assert.equal(timestampMs(models[0]!.updatedAt!), 3000);
  assert.deepEqual(aggregateModels([]), []);
});
