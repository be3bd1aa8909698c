// The control records over a real (in-memory) embedded store: every write is one transaction with
// its event, bad input lists every problem and writes nothing, the mirror follows, and events
// resume from a revision with no gap and no duplicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../core/errors.ts';
import { createControlRecords } from './control-records.ts';
import { pinPolicyName } from './control-writes.ts';
import { readEvents } from './events.ts';
import { EVENT_TYPES } from './model/names.ts';
import type { MeshEvent } from './model/records.ts';
import { routingPolicyOf } from './routing-policy.ts';
import { createEmbeddedStore } from './store/embedded.ts';
import { EventType as PbEventType } from '../gen/infermesh/control/v1/control_pb.js';
import { eventTypeFromProto, eventTypeToProto } from './records-proto.ts';

async function records() {
  const store = createEmbeddedStore({ path: ':memory:' });
  const r = await createControlRecords(store, { nodeId: 'n1' });
  return { ...r, close: async () => (r.view.close(), await store.close()) };
}

async function collect(it: AsyncIterable<MeshEvent>): Promise<MeshEvent[]> {
  const out: MeshEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

test('a bad policy is refused with every problem listed, and nothing is written', async (t) => {
  const r = await records();
  t.after(r.close);
  const before = r.store.health().revision;
  const err = await r.writer
    .setPolicy({ name: 'Bad Name', type: 'slo', spec: { class: 'gold', ttftMs: -1, extra: 1 } })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof MeshError);
  assert.equal(err.code, 'invalid_request');
  const paths = (err.details.problems as Array<{ path: string }>).map((p) => p.path).sort();
  assert.deepEqual(paths, ['name', 'spec', 'spec.class', 'spec.ttftMs']);
  assert.equal(r.store.health().revision, before);
  assert.equal((await r.store.list('')).entries.length, 0);
});

test('a quota needs its tenant; deleting the tenant deletes its quotas in the same transaction', async (t) => {
  const r = await records();
  t.after(r.close);
  const quota = { name: 'quota.acme.all', type: 'quota', spec: { tenant: 'acme', requestsPerSecond: 5 } };
  await assert.rejects(r.writer.setPolicy(quota), /no tenant "acme"/);
  assert.equal(r.view.snapshot().policies.size, 0);
  await r.writer.createTenant({ id: 'acme' });
  await assert.rejects(r.writer.createTenant({ id: 'acme' }), (e: MeshError) => e.code === 'conflict');
  const stored = await r.writer.setPolicy(quota);
  await r.view.waitFor(stored.revision);
  assert.equal(routingPolicyOf(r.view.snapshot()).quotas[0]?.requestsPerSecond, 5);
  assert.deepEqual(await r.writer.deleteTenant('acme'), { policies: ['quota.acme.all'], apiKeys: [] });
  await r.view.waitFor(r.store.health().revision);
  assert.equal(r.view.snapshot().policies.size, 0);
  assert.equal(r.view.snapshot().tenants.size, 0);
});

test('conditional writes: a stale expected revision is a conflict', async (t) => {
  const r = await records();
  t.after(r.close);
  const slo = { name: 'slo.fast', type: 'slo', spec: { class: 'latency', ttftMs: 500 } };
  const first = await r.writer.setPolicy(slo, 0);
  await assert.rejects(r.writer.setPolicy(slo, 0), (e: MeshError) => e.code === 'conflict');
  const second = await r.writer.setPolicy(
    { ...slo, spec: { class: 'latency', ttftMs: 400 } },
    first.revision,
  );
  assert.equal(second.createdAt, first.createdAt);
  assert.ok(second.revision > first.revision);
});

test('pins merge nodes, unpin removes them, and routing sees pins and drains', async (t) => {
  const r = await records();
  t.after(r.close);
  await r.writer.pin({ model: 'meta/Llama-3', nodeIds: ['b'], mode: 'require' });
  const p = await r.writer.pin({ model: 'meta/Llama-3', nodeIds: ['a'] });
  assert.equal(p.name, pinPolicyName('meta/Llama-3'));
  assert.deepEqual(p.targetNodes, ['a', 'b']);
  assert.equal(p.type === 'placement' && p.spec.mode, 'require', 'a later pin keeps the mode');
  await assert.rejects(r.writer.pin({ model: 'm', nodeIds: ['a'], minReplicas: 2 }), /minReplicas/);
  await r.writer.drain('a', false);
  await r.view.waitFor(r.store.health().revision);
  let policy = routingPolicyOf(r.view.snapshot());
  assert.deepEqual(policy.pins, [{ model: 'meta/Llama-3', nodes: ['a', 'b'], mode: 'require' }]);
  assert.deepEqual(policy.drains, [{ node: 'a', force: false }]);
  await r.writer.unpin('meta/Llama-3', ['a']);
  await r.writer.undrain('a');
  await assert.rejects(r.writer.undrain('a'), (e: MeshError) => e.code === 'not_found');
  await r.view.waitFor(r.store.health().revision);
  policy = routingPolicyOf(r.view.snapshot());
  assert.deepEqual(policy.pins[0]?.nodes, ['b']);
  assert.deepEqual(policy.drains, []);
  await r.writer.unpin('meta/Llama-3', []);
  await assert.rejects(r.writer.unpin('meta/Llama-3', []), (e: MeshError) => e.code === 'not_found');
});

test('events: history after a revision, filtered, then followed without gap or duplicate', async (t) => {
  const r = await records();
  t.after(r.close);
  await r.writer.createTenant({ id: 't1' });
  await r.writer.drain('n2', true);
  const all = await collect(readEvents(r.store, { sinceRevision: 0, types: [], follow: false }));
  assert.deepEqual(
    all.map((e) => e.type),
    ['tenant_created', 'node_draining'],
  );
  assert.equal(all[1]?.data.force, 'true');
  assert.equal(all[0]?.source, 'n1');
  const since = all[0].revision;
  const later = await collect(readEvents(r.store, { sinceRevision: since, types: [], follow: false }));
  assert.deepEqual(
    later.map((e) => e.revision),
    [all[1].revision],
  );

  // Following: what was written after `since` and what is written while following, once each.
  const abort = new AbortController();
  const seen: MeshEvent[] = [];
  const following = (async () => {
    for await (const e of readEvents(r.store, {
      sinceRevision: since,
      types: ['node_draining', 'node_undrained'],
      follow: true,
      signal: abort.signal,
    })) {
      seen.push(e);
      if (seen.length === 3) abort.abort();
    }
  })();
  await r.writer.createTenant({ id: 't2' }); // filtered out
  await r.writer.undrain('n2');
  await r.writer.drain('n3', false);
  await following;
  assert.deepEqual(
    seen.map((e) => e.type),
    ['node_draining', 'node_undrained', 'node_draining'],
  );
  const revisions = seen.map((e) => e.revision);
  assert.deepEqual(
    [...revisions].sort((a, b) => a - b),
    revisions,
  );
  assert.equal(new Set(revisions).size, 3);
});

test('event type names follow the proto enum one to one', () => {
  for (const name of EVENT_TYPES) {
    const pb = eventTypeToProto(name);
    assert.equal(PbEventType[pb], name.toUpperCase(), name);
    assert.equal(eventTypeFromProto(pb), name);
  }
  assert.equal(eventTypeFromProto(PbEventType.UNSPECIFIED), undefined);
});
