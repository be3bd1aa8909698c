// The router's API key check: key from Authorization or x-api-key, tenant from the key, revocation
// by new rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newApiKey } from '../core/api-key.ts';
import { MeshError } from '../core/errors.ts';
import { createApiKeyGate } from './api-keys.ts';
import { NO_ROUTING_RULES } from './routing-rules.ts';

const acme = newApiKey();
const globex = newApiKey();
const rules = {
  ...NO_ROUTING_RULES,
  apiKeys: {
    [acme.id]: { tenant: 'acme', salt: acme.salt, hash: acme.hash },
    [globex.id]: { tenant: 'globex', salt: globex.salt, hash: globex.hash },
  },
};

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof MeshError);
    return err.code;
  }
};

test('a valid key names its tenant, from Authorization: Bearer or x-api-key', () => {
  const gate = createApiKeyGate();
  gate.use(rules);
  assert.equal(gate.tenantOf({ authorization: `Bearer ${acme.key}` }, undefined), 'acme');
  assert.equal(gate.tenantOf({ authorization: `bearer  ${globex.key}` }, undefined), 'globex');
  assert.equal(gate.tenantOf({ 'x-api-key': acme.key }, undefined), 'acme');
  // x-mesh-tenant may repeat the key's tenant, never name another.
  assert.equal(gate.tenantOf({ authorization: `Bearer ${acme.key}` }, 'acme'), 'acme');
  assert.equal(
    code(() => gate.tenantOf({ authorization: `Bearer ${acme.key}` }, 'globex')),
    'permission_denied',
  );
});

test('missing, malformed, unknown and tampered keys are unauthenticated, with a Bearer challenge', () => {
  const gate = createApiKeyGate();
  gate.use(rules);
  const tampered = acme.key.slice(0, -1) + (acme.key.endsWith('A') ? 'B' : 'A');
  const otherSecret = `im_${acme.id}_${globex.key.split('_').slice(2).join('_')}`;
  for (const headers of [
    {},
    { authorization: 'Basic dXNlcjpwYXNz' },
    { authorization: 'Bearer sk-not-ours' },
    { authorization: `Bearer ${tampered}` },
    { authorization: `Bearer ${otherSecret}` },
    { authorization: `Bearer ${newApiKey().key}` },
  ])
    assert.equal(
      code(() => gate.tenantOf(headers, undefined)),
      'unauthenticated',
      JSON.stringify(headers),
    );
  try {
    gate.tenantOf({}, undefined);
  } catch (err) {
    assert.equal((err as MeshError).httpStatus, 401);
    assert.match(String((err as MeshError).details.wwwAuthenticate), /^Bearer /);
  }
});

test('new rules without the key revoke it at once', () => {
  const gate = createApiKeyGate();
  gate.use(rules);
  gate.use({ ...rules, apiKeys: { [globex.id]: rules.apiKeys[globex.id]! } });
  assert.equal(
    code(() => gate.tenantOf({ authorization: `Bearer ${acme.key}` }, undefined)),
    'unauthenticated',
  );
  assert.equal(gate.tenantOf({ authorization: `Bearer ${globex.key}` }, undefined), 'globex');
  gate.use(NO_ROUTING_RULES);
  assert.equal(
    code(() => gate.tenantOf({ authorization: `Bearer ${globex.key}` }, undefined)),
    'unauthenticated',
  );
});
