import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeJsonMeta } from '../membership/index.ts';
import type { NodeMeta } from '../core/types.ts';
import { decodeNodeMeta, encodeNodeMeta } from './node-meta.ts';

const meta: NodeMeta = {
  roles: ['gpu'],
  zone: 'eu-1a',
  apiUrl: 'http://10.0.0.7:50051',
  labels: { rack: 'r7' },
  gpuCount: 8,
  gpuTypes: ['NVIDIA H100 80GB HBM3'],
  models: ['llama-3-8b', 'qwen-2.5-7b'],
  modelsTruncated: false,
  draining: false,
  version: '0.1.0',
};

test('node meta round-trips through its wire form', () => {
  assert.deepEqual(decodeNodeMeta(encodeNodeMeta(meta, 512)), meta);
  const draining = { ...meta, draining: true, labels: {}, gpuCount: 0, gpuTypes: [] };
  assert.deepEqual(decodeNodeMeta(encodeNodeMeta(draining, 512)), draining);
});

test('meta over the budget drops labels, then models from the end, and says so', () => {
  const many = {
    ...meta,
    labels: { note: 'x'.repeat(200) },
    models: Array.from({ length: 40 }, (_, i) => `model-${i}`),
  };
  const bytes = encodeNodeMeta(many, 512);
  assert.ok(bytes.length <= 512, String(bytes.length));
  const back = decodeNodeMeta(bytes)!;
  assert.deepEqual(back.labels, {});
  assert.ok(back.models.length > 0 && back.models.length < 40);
  assert.deepEqual(back.models, many.models.slice(0, back.models.length));
  assert.equal(back.modelsTruncated, true);
  assert.equal(back.apiUrl, meta.apiUrl);
});

test('meta that is not a meshd node reads as undefined, and bad fields are dropped', () => {
  for (const bad of [
    new Uint8Array(),
    new TextEncoder().encode('{not json'),
    encodeJsonMeta([1, 2]),
    encodeJsonMeta({ r: 'gpu' }),
  ])
    assert.equal(decodeNodeMeta(bad), undefined);
  const odd = decodeNodeMeta(
    encodeJsonMeta({ r: ['gpu', 'wizard'], z: 'z', a: '', l: { n: 1 }, g: 'x', m: [3], v: 7 }),
  )!;
  assert.deepEqual(odd.roles, ['gpu']);
  assert.deepEqual(odd.labels, {});
  assert.equal(odd.gpuCount, 0);
  assert.deepEqual(odd.models, []);
  assert.equal(odd.version, '');
});
