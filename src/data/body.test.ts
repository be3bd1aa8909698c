import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../core/errors.ts';
import { parseJsonObject, requireModel } from './body.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MeshError);
    return err.code;
  }
  return 'none';
};

test('parseJsonObject accepts objects and rejects everything else with invalid_request', () => {
  assert.deepEqual(parseJsonObject(Buffer.from('{"model":"m"}')), { model: 'm' });
  for (const bad of ['', '{', '[1]', 'null', '"s"', '3']) {
    assert.equal(
      codeOf(() => parseJsonObject(Buffer.from(bad))),
      'invalid_request',
      bad,
    );
  }
});

test('requireModel: missing or empty model is model_not_found, non-string is invalid_request', () => {
  assert.equal(requireModel({ model: 'm' }), 'm');
  assert.equal(
    codeOf(() => requireModel({})),
    'model_not_found',
  );
  assert.equal(
    codeOf(() => requireModel({ model: '' })),
    'model_not_found',
  );
  assert.equal(
    codeOf(() => requireModel({ model: 7 })),
    'invalid_request',
  );
});
