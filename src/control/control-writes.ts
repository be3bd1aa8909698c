/**
 * Every control-plane write, each one transaction: the record and the event that reports it
 * commit together or not at all, and conditions (a tenant a quota names must exist, a revision a
 * caller expects) are compares of that same transaction, so no race half-applies anything.
 */
import { createHash } from 'node:crypto';
import { newApiKey } from '../core/api-key.ts';
import { MeshError } from '../core/errors.ts';
import { APIKEYS_PREFIX, apiKeyKey, drainKey, EVENTS_PREFIX, policyKey, tenantKey } from './model/keys.ts';
import {
  apiKeyInputSchema,
  policyInputSchema,
  tenantInputSchema,
  validate,
  type ApiKeyRecord,
  type DrainRecord,
  type EventRecord,
  type PolicyInput,
  type PolicyRecord,
  type TenantRecord,
} from './model/records.ts';
import type { EventType } from './model/names.ts';
import type { ControlStore, StoreCompare, StoreOp } from './store/types.ts';

/** Events kept; older ones are deleted as new ones arrive. */
export const EVENTS_KEPT = 10_000;
/** Event writes between two prunes of the history. */
const PRUNE_EVERY = 256;

export interface ControlWriter {
  /** Creates or replaces a policy; `expectedRevision` 0: only if absent. Resolves with the stored record. */
  setPolicy(input: unknown, expectedRevision?: number): Promise<PolicyRecord & { revision: number }>;
  deletePolicy(name: string): Promise<void>;
  pin(p: PinInput): Promise<PolicyRecord & { revision: number }>;
  /** Removes `nodeIds` from the pin (all: the pin goes). */
  unpin(model: string, nodeIds: readonly string[]): Promise<void>;
  drain(nodeId: string, force: boolean): Promise<void>;
  undrain(nodeId: string): Promise<void>;
  createTenant(input: unknown): Promise<TenantRecord & { revision: number }>;
  /** Deletes the tenant, its quota policies and its API keys; resolves with their names and ids. */
  deleteTenant(id: string): Promise<{ policies: string[]; apiKeys: string[] }>;
  /** A new API key of an existing tenant: the record, and the whole key (`key`), which is not stored. */
  createApiKey(input: unknown): Promise<ApiKeyRecord & { revision: number; key: string }>;
  revokeApiKey(id: string): Promise<void>;
  /** Records an event by itself (what happened outside the store: a model loaded, a GPU quarantined). */
  recordEvent(type: EventType, data: Record<string, string>): Promise<void>;
}

export interface PinInput {
  model: string;
  nodeIds: readonly string[];
  minReplicas?: number;
  mode?: 'prefer' | 'require';
  revision?: string;
  source?: string;
  endpoint?: string;
}

/** The placement policy's name for a model's pin: readable, and unique per model name. */
export function pinPolicyName(model: string): string {
  const slug = model
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 40);
  const hash = createHash('sha256').update(model).digest('hex').slice(0, 8);
  return `pin.${slug ? `${slug}-` : ''}${hash}`;
}

export function createControlWriter(o: {
  store: ControlStore;
  nodeId: string;
  /** Wall-clock ms for record and event times; default Date.now. */
  now?: () => number;
}): ControlWriter {
  const { store } = o;
  const now = o.now ?? Date.now;
  let seq = 0;
  let sincePrune = 0;
  const eventOp = (type: EventType, data: Record<string, string>): StoreOp => {
    const at = now();
    const record: EventRecord = { type, at, source: o.nodeId, data };
    // Time first, so a listing sorted by key is (nearly) in order; the revision orders exactly.
    const key = `${EVENTS_PREFIX}${String(at).padStart(15, '0')}-${o.nodeId}-${(seq++).toString(36)}`;
    return { put: key, value: JSON.stringify(record) };
  };
  const commit = async (compares: StoreCompare[], ops: StoreOp[]) => {
    const r = await store.txn(compares, ops);
    if (r.succeeded && (sincePrune += ops.length) >= PRUNE_EVERY) {
      sincePrune = 0;
      void pruneEvents(store).catch(() => {}); // best effort: the next prune retries
    }
    return r;
  };

  const writePolicy = async (policy: PolicyInput, expectedRevision?: number) => {
    const key = policyKey(policy.name);
    const existing = await store.get(key);
    if (expectedRevision !== undefined && (existing?.modRevision ?? 0) !== expectedRevision)
      throw new MeshError(
        'conflict',
        `policy "${policy.name}" is at revision ${existing?.modRevision ?? 0}, not ${expectedRevision}`,
      );
    const at = now();
    const createdAt = existing ? (JSON.parse(existing.value) as PolicyRecord).createdAt : at;
    const record: PolicyRecord = { ...policy, createdAt, updatedAt: at };
    const compares: StoreCompare[] = [{ key, modRevision: existing?.modRevision ?? 0 }];
    if (policy.type === 'quota') compares.push({ key: tenantKey(policy.spec.tenant), exists: true });
    const r = await commit(compares, [
      { put: key, value: JSON.stringify(record) },
      eventOp(existing ? 'policy_updated' : 'policy_created', { name: policy.name, type: policy.type }),
    ]);
    if (!r.succeeded) {
      if (policy.type === 'quota' && !(await store.get(tenantKey(policy.spec.tenant))))
        throw new MeshError('invalid_request', `policy "${policy.name}": no tenant "${policy.spec.tenant}"`);
      throw new MeshError('conflict', `policy "${policy.name}" changed while it was written: try again`);
    }
    return { ...record, revision: r.revision };
  };

  return {
    async setPolicy(input, expectedRevision) {
      const name = (input as { name?: unknown } | null)?.name;
      const policy = validate(
        policyInputSchema,
        input,
        `policy${typeof name === 'string' ? ` "${name}"` : ''}`,
      );
      return writePolicy(policy, expectedRevision);
    },
    async deletePolicy(name) {
      const key = policyKey(name);
      const existing = await store.get(key);
      if (!existing) throw new MeshError('not_found', `no policy "${name}"`);
      const type = (JSON.parse(existing.value) as PolicyRecord).type;
      const r = await commit(
        [{ key, modRevision: existing.modRevision }],
        [{ delete: key }, eventOp('policy_deleted', { name, type })],
      );
      if (!r.succeeded)
        throw new MeshError('conflict', `policy "${name}" changed while it was deleted: try again`);
    },
    async pin(p) {
      if (p.nodeIds.length === 0) throw new MeshError('invalid_request', 'a pin names at least one node');
      const name = pinPolicyName(p.model);
      const existing = await store.get(policyKey(name));
      const before = existing ? (JSON.parse(existing.value) as PolicyRecord) : undefined;
      const nodes = [...new Set([...(before?.targetNodes ?? []), ...p.nodeIds])].sort();
      const spec = {
        mode: p.mode ?? (before?.type === 'placement' ? before.spec.mode : 'prefer'),
        ...(p.minReplicas ? { minReplicas: p.minReplicas } : {}),
        ...(p.revision ? { revision: p.revision } : {}),
        ...(p.source ? { source: p.source } : {}),
        ...(p.endpoint ? { endpoint: p.endpoint } : {}),
      };
      const policy = validate(
        policyInputSchema,
        { name, type: 'placement', targetModels: [p.model], targetNodes: nodes, spec },
        `pin of "${p.model}"`,
      );
      return writePolicy(policy, existing?.modRevision ?? 0);
    },
    async unpin(model, nodeIds) {
      const name = pinPolicyName(model);
      const existing = await store.get(policyKey(name));
      if (!existing) throw new MeshError('not_found', `"${model}" is not pinned`);
      const before = JSON.parse(existing.value) as PolicyRecord;
      const left = before.targetNodes.filter((n) => !nodeIds.includes(n));
      if (nodeIds.length === 0 || left.length === 0) return this.deletePolicy(name);
      const minReplicas = before.type === 'placement' ? before.spec.minReplicas : undefined;
      const spec =
        before.type === 'placement'
          ? {
              ...before.spec,
              ...(minReplicas && minReplicas > left.length ? { minReplicas: left.length } : {}),
            }
          : {};
      const { createdAt: _c, updatedAt: _u, ...input } = before;
      await writePolicy(
        validate(policyInputSchema, { ...input, targetNodes: left, spec }, `pin of "${model}"`),
        existing.modRevision,
      );
    },
    async drain(nodeId, force) {
      const record: DrainRecord = { nodeId, force, since: now() };
      await commit(
        [],
        [
          { put: drainKey(nodeId), value: JSON.stringify(record) },
          eventOp('node_draining', { node: nodeId, force: String(force) }),
        ],
      );
    },
    async undrain(nodeId) {
      const r = await commit(
        [{ key: drainKey(nodeId), exists: true }],
        [{ delete: drainKey(nodeId) }, eventOp('node_undrained', { node: nodeId })],
      );
      if (!r.succeeded) throw new MeshError('not_found', `node "${nodeId}" is not draining`);
    },
    async createTenant(input) {
      const tenant = validate(tenantInputSchema, input, 'tenant');
      const record: TenantRecord = { ...tenant, createdAt: now() };
      const r = await commit(
        [{ key: tenantKey(tenant.id), exists: false }],
        [
          { put: tenantKey(tenant.id), value: JSON.stringify(record) },
          eventOp('tenant_created', { tenant: tenant.id }),
        ],
      );
      if (!r.succeeded) throw new MeshError('conflict', `tenant "${tenant.id}" exists`);
      return { ...record, revision: r.revision };
    },
    async deleteTenant(id) {
      const existing = await store.get(tenantKey(id));
      if (!existing) throw new MeshError('not_found', `no tenant "${id}"`);
      const quotas = (await store.list(policyKey(''))).entries.filter((e) => {
        const p = JSON.parse(e.value) as PolicyRecord;
        return p.type === 'quota' && p.spec.tenant === id;
      });
      const keys = (await store.list(APIKEYS_PREFIX)).entries.filter(
        (e) => (JSON.parse(e.value) as ApiKeyRecord).tenant === id,
      );
      const policies = quotas.map((e) => e.key.slice(policyKey('').length));
      const apiKeys = keys.map((e) => e.key.slice(APIKEYS_PREFIX.length));
      // Its keys go with it: a key of a deleted tenant must not authenticate anything. A key
      // created meanwhile cannot escape: creating one compares the tenant's record, which this deletes.
      const r = await commit(
        [existing, ...quotas, ...keys].map((e) => ({ key: e.key, modRevision: e.modRevision })),
        [
          { delete: existing.key },
          ...[...quotas, ...keys].map((e) => ({ delete: e.key })),
          eventOp('tenant_deleted', { tenant: id, policies: policies.join(','), apiKeys: apiKeys.join(',') }),
        ],
      );
      if (!r.succeeded)
        throw new MeshError('conflict', `tenant "${id}", its quotas or keys changed meanwhile: try again`);
      return { policies, apiKeys };
    },
    async createApiKey(input) {
      const { tenant, name } = validate(apiKeyInputSchema, input, 'API key');
      const made = newApiKey();
      const record: ApiKeyRecord = {
        id: made.id,
        tenant,
        name,
        salt: made.salt,
        hash: made.hash,
        createdAt: now(),
      };
      const key = apiKeyKey(made.id);
      const r = await commit(
        [
          { key: tenantKey(tenant), exists: true },
          { key, exists: false },
        ],
        [{ put: key, value: JSON.stringify(record) }, eventOp('apikey_created', { key: made.id, tenant })],
      );
      if (!r.succeeded) {
        if (!(await store.get(tenantKey(tenant))))
          throw new MeshError('invalid_request', `API key: no tenant "${tenant}"`);
        throw new MeshError('conflict', `API key id ${made.id} is taken: try again`);
      }
      return { ...record, revision: r.revision, key: made.key };
    },
    async revokeApiKey(id) {
      const key = apiKeyKey(id);
      const existing = await store.get(key);
      if (!existing) throw new MeshError('not_found', `no API key "${id}"`);
      const { tenant } = JSON.parse(existing.value) as ApiKeyRecord;
      const r = await commit(
        [{ key, modRevision: existing.modRevision }],
        [{ delete: key }, eventOp('apikey_revoked', { key: id, tenant })],
      );
      if (!r.succeeded) throw new MeshError('not_found', `no API key "${id}"`);
    },
    async recordEvent(type, data) {
      await commit([], [eventOp(type, data)]);
    },
  };
}

/** Deletes the oldest events beyond EVENTS_KEPT. */
async function pruneEvents(store: ControlStore): Promise<void> {
  const { entries } = await store.list(EVENTS_PREFIX);
  if (entries.length <= EVENTS_KEPT) return;
  const oldest = [...entries]
    .sort((a, b) => a.modRevision - b.modRevision)
    .slice(0, entries.length - EVENTS_KEPT);
  // In slices: etcd refuses transactions of more than 128 operations by default.
  for (let i = 0; i < oldest.length; i += 100)
    await store.txn(
      [],
      oldest.slice(i, i + 100).map((e) => ({ delete: e.key })),
    );
}
