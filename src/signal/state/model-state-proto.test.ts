import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import type { ModelState } from '../../core/types.ts';
import { EndpointHealth, ModelStateSchema } from '../../gen/infermesh/state/v1/state_pb.js';
import { modelStateFromProto, modelStateToProto } from './model-state-proto.ts';

const full: ModelState = {
  endpointId: 'gpu-1/vllm-a',
  endpointUrl: 'http://127.0.0.1:8001',
  node: 'gpu-1',
  model: 'llama-3-8b',
  runtime: 'vllm',
  health: 'stale',
  loaded: true,
  warming: false,
  queueDepth: 3,
  running: 12,
  kvCacheUsage: 0.4321,
  prefixCacheHitRate: 0.25,
  requestRate: 7.5,
  tokenRate: 1234.5,
  ttftP95Ms: 81.2,
  e2eP95Ms: 950.1,
  batchFullness: 0.1875,
  kvBlockSize: 16,
  kvBlocksTotal: 4096,
  gpuType: 'H100',
  gpuUuids: ['GPU-aaaa', 'MIG-bbbb'],
  itlP95Ms: 12.5,
  loraAdapters: ['sql-lora'],
  protocols: ['openai', 'tgi'],
  canLoad: true,
  canUnload: false,
  updatedAt: 1_764_000_000_123,
};

test('every field survives domain → binary wire → domain', () => {
  const wire = toBinary(ModelStateSchema, modelStateToProto(full));
  assert.deepEqual(modelStateFromProto(fromBinary(ModelStateSchema, wire)), full);
});

test('absent signals stay absent (never invented as zero)', () => {
  const { queueDepth: _q, running: _r, kvCacheUsage: _k, gpuType: _g, ...sparse } = full;
  const pb = fromBinary(ModelStateSchema, toBinary(ModelStateSchema, modelStateToProto(sparse)));
  assert.equal(pb.queueDepth, undefined);
  const back = modelStateFromProto(pb);
  assert.deepEqual(back, sparse);
  assert.ok(!('queueDepth' in back));
  // A zero that was reported is kept as a zero.
  assert.equal(modelStateFromProto(modelStateToProto({ ...sparse, queueDepth: 0 })).queueDepth, 0);
});

test('identity travels in labels; JSON uses the proto3 JSON names', () => {
  const json = toJson(ModelStateSchema, modelStateToProto(full)) as Record<string, unknown>;
  assert.deepEqual(json.labels, { model: 'llama-3-8b', runtime: 'vllm', node: 'gpu-1' });
  assert.equal(json.health, 'ENDPOINT_HEALTH_STALE');
  assert.equal(json.updatedAt, '2025-11-24T16:00:00.123Z');
});

test('records that cannot be keyed or routed are refused', () => {
  assert.throws(() => modelStateFromProto(create(ModelStateSchema, { endpointId: 'x' })), {
    code: 'invalid_request',
  });
  const pb = modelStateToProto(full);
  pb.labels!.runtime = 'nope';
  assert.throws(() => modelStateFromProto(pb), /unknown runtime "nope"/);
  const unspecified = modelStateToProto(full);
  unspecified.health = EndpointHealth.UNSPECIFIED;
  assert.equal(modelStateFromProto(unspecified).health, 'unhealthy');
});
