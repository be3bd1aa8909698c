import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, MeshError } from './errors.ts';

test('MeshError.from keeps a MeshError and wraps anything else as internal', () => {
  const original = new MeshError('model_not_found', 'no such model');
  assert.equal(MeshError.from(original), original);
  const wrapped = MeshError.from(new TypeError('boom'));
  assert.equal(wrapped.code, 'internal');
  assert.equal(wrapped.httpStatus, 500);
  assert.ok(wrapped.cause instanceof TypeError);
  assert.equal(MeshError.from('text', 'upstream_error').code, 'upstream_error');
});

test('toOpenAI gives the OpenAI error shape with the stable code', () => {
  const body = new MeshError('payload_too_large', 'too big', { param: 'messages' }).toOpenAI();
  assert.deepEqual(body, {
    error: {
      message: 'too big',
      type: 'invalid_request_error',
      param: 'messages',
      code: 'payload_too_large',
    },
  });
});

test('every error code is documented in docs/ERRORS.md', () => {
  const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
  for (const code of Object.keys(ERROR_CODES)) assert.match(doc, new RegExp('`' + code + '`'), code);
});
