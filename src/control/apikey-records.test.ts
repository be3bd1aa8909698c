// Tenant API keys as control records over a real (in-memory) embedded store: a key needs its
// tenant, the store and the API never show a secret, revocation and tenant deletion remove keys
// (with their events, in one transaction), and the routing policy carries the hashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { createContextValues, createHandlerContext } from '@connectrpc/connect';
import { parseApiKey, verifySecret } from '../core/api-key.ts';
import type { MeshError } from '../core/errors.ts';
import { ControlPlane } from '../gen/infermesh/control/v1/control_pb.js';
import { readEvents } from './events.ts';
import type { MeshEvent } from './model/records.ts';
import { recordRpcs } from './records-service.ts';
import { routingPolicyOf } from './routing-policy.ts';
import { memoryControlRecords } from './testing/memory-records.ts';

async function records() {
  const r = await memoryControlRecords('n1');
  return { ...r, close: async () => (r.view.close(), await r.store.close()) };
}

async function events(r: Awaited<ReturnType<typeof records>>): Promise<MeshEvent[]> {
  const out: MeshEvent[] = [];
  for await (const e of readEvents(r.store, { sinceRevision: 0, types: [], follow: false })) out.push(e);
  return out;
}

const ctx = () =>
  createHandlerContext({
    service: ControlPlane,
    method: ControlPlane.method.listApiKeys,
    protocolName: 'connect',
    requestMethod: 'POST',
    url: 'http://localhost/',
    contextValues: createContextValues(),
  });

test('a key needs an existing tenant; nothing is written without one', async (t) => {
  const r = await records();
  t.after(r.close);
  await assert.rejects(
    r.writer.createApiKey({ tenant: 'ghost' }),
    (e: MeshError) => e.code === 'invalid_request' && /no tenant "ghost"/.test(e.message),
  );
  await assert.rejects(
    r.writer.createApiKey({ tenant: 'Bad Name' }),
    (e: MeshError) => e.code === 'invalid_request',
  );
  assert.equal((await r.store.list('')).entries.length, 0);
});

test('the store keeps a salted hash that verifies the key; the API lists no secret', async (t) => {
  const r = await records();
  t.after(r.close);
  await r.writer.createTenant({ id: 'acme' });
  const made = await r.writer.createApiKey({ tenant: 'acme', name: 'ci' });
  const parsed = parseApiKey(made.key)!;
  assert.equal(parsed.id, made.id);
  const stored = (await r.store.list('')).entries.map((e) => e.value).join('\n');
  assert.ok(!stored.includes(parsed.secret), 'the secret is not stored');
  await r.view.waitFor(made.revision);
  const policy = routingPolicyOf(r.view.snapshot());
  assert.equal(policy.apiKeys[made.id]?.tenant, 'acme');
  assert.ok(verifySecret(policy.apiKeys[made.id]!, parsed.secret));

  const rpcs = recordRpcs(r, { knowsNode: () => true, modelStates: () => [] });
  const listed = await rpcs.listApiKeys(
    create(ControlPlane.method.listApiKeys.input, { tenant: 'acme' }),
    ctx(),
  );
  assert.deepEqual(
    listed.apiKeys?.map((k) => [k.keyId, k.tenant, k.name]),
    [[made.id, 'acme', 'ci']],
  );
  const text = JSON.stringify(listed, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  assert.ok(!text.includes(parsed.secret) && !text.includes(made.hash) && !text.includes(made.salt));
  const none = await rpcs.listApiKeys(
    create(ControlPlane.method.listApiKeys.input, { tenant: 'globex' }),
    ctx(),
  );
  assert.equal(none.apiKeys?.length, 0);
});

test('revoking deletes the key with its event; an unknown key is not_found', async (t) => {
  const r = await records();
  t.after(r.close);
  await r.writer.createTenant({ id: 'acme' });
  const made = await r.writer.createApiKey({ tenant: 'acme' });
  await r.writer.revokeApiKey(made.id);
  await r.view.waitFor(r.store.health().revision);
  assert.equal(r.view.snapshot().apiKeys.size, 0);
  assert.deepEqual(routingPolicyOf(r.view.snapshot()).apiKeys, {});
  await assert.rejects(r.writer.revokeApiKey(made.id), (e: MeshError) => e.code === 'not_found');
  const types = (await events(r)).map((e) => [e.type, e.data.key ?? e.data.tenant]);
  assert.deepEqual(types, [
    ['tenant_created', 'acme'],
    ['apikey_created', made.id],
    ['apikey_revoked', made.id],
  ]);
});

test('deleting a tenant revokes its keys in the same transaction, and only its keys', async (t) => {
  const r = await records();
  t.after(r.close);
  await r.writer.createTenant({ id: 'acme' });
  await r.writer.createTenant({ id: 'globex' });
  const a1 = await r.writer.createApiKey({ tenant: 'acme' });
  const a2 = await r.writer.createApiKey({ tenant: 'acme' });
  const g = await r.writer.createApiKey({ tenant: 'globex' });
  const before = r.store.health().revision;
  const deleted = await r.writer.deleteTenant('acme');
  assert.deepEqual(deleted.apiKeys.sort(), [a1.id, a2.id].sort());
  assert.equal(r.store.health().revision, before + 1, 'one transaction');
  await r.view.waitFor(r.store.health().revision);
  assert.deepEqual([...r.view.snapshot().apiKeys.keys()], [g.id]);
  const last = (await events(r)).at(-1);
  assert.equal(last?.type, 'tenant_deleted');
  assert.deepEqual(last?.data.apiKeys?.split(',').sort(), [a1.id, a2.id].sort());
});
