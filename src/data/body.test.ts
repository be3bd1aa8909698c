import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../core/errors.ts';
import { parseJsonObject, requireJsonContentType } from './body.ts';

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

test('requireJsonContentType accepts JSON (or none) and refuses the rest with 415', () => {
  assert.equal(
    codeOf(() => requireJsonContentType(undefined)),
    'none',
  );
  assert.equal(
    codeOf(() => requireJsonContentType('application/json; charset=utf-8')),
    'none',
  );
  assert.equal(
    codeOf(() => requireJsonContentType('text/plain')),
    'unsupported_media_type',
  );
  assert.equal(
    codeOf(() => requireJsonContentType('application/octet-stream')),
    'unsupported_media_type',
  );
});
