/**
 * The ControlPlane RPCs over stored records: drains, pins and placements, policies, tenants, API
 * keys and events. Writes go through the writer (one transaction each) and answer once this node's mirror
 * shows them; reads answer from the mirror, with `mesh-stale: true` when it may lag the store.
 */
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { MeshError } from '../core/errors.ts';
import type { ModelState } from '../core/types.ts';
import type { ControlPlane } from '../gen/infermesh/control/v1/control_pb.js';
import type { ControlSnapshot, ControlView } from './control-view.ts';
import type { ControlWriter } from './control-writes.ts';
import { readEvents } from './events.ts';
import { REVISION_HEADER, STALE_HEADER } from './freshness.ts';
import type { EventType } from './model/names.ts';
import {
  apiKeyToProto,
  eventToProto,
  eventTypeFromProto,
  pinModeFromProto,
  placementToProto,
  policyInputFromProto,
  policyToProto,
  policyTypeName,
  tenantToProto,
} from './records-proto.ts';
import type { ControlStore } from './store/types.ts';

/** The control store as this node uses it. */
export interface ControlRecords {
  store: ControlStore;
  view: ControlView;
  writer: ControlWriter;
}

type RecordRpcs = Pick<
  ServiceImpl<typeof ControlPlane>,
  | 'drainNode'
  | 'undrainNode'
  | 'pinModel'
  | 'unpinModel'
  | 'listPlacements'
  | 'setPolicy'
  | 'getPolicy'
  | 'deletePolicy'
  | 'listPolicies'
  | 'createTenant'
  | 'listTenants'
  | 'deleteTenant'
  | 'createApiKey'
  | 'listApiKeys'
  | 'revokeApiKey'
  | 'subscribeEvents'
>;

export function recordRpcs(
  records: ControlRecords,
  source: { knowsNode(id: string): boolean; modelStates(): ModelState[] },
): RecordRpcs {
  const { view, writer } = records;
  /** The mirror, with the headers that say how fresh it is. */
  const read = (ctx: HandlerContext): ControlSnapshot => {
    const snapshot = view.snapshot();
    ctx.responseHeader.set(REVISION_HEADER, String(snapshot.revision));
    if (view.stale()) ctx.responseHeader.set(STALE_HEADER, 'true');
    return snapshot;
  };
  const written = async <T extends { revision?: number }>(r: T): Promise<T> => {
    if (r.revision) await view.waitFor(r.revision);
    return r;
  };
  const settle = () => view.waitFor(records.store.health().revision);
  const required = (value: string, field: string) => {
    if (!value) throw new MeshError('invalid_request', `${field} is required`);
    return value;
  };

  return {
    async drainNode(req) {
      const node = required(req.nodeId, 'node_id');
      if (!source.knowsNode(node)) throw new MeshError('not_found', `no node "${node}"`);
      await writer.drain(node, req.force);
      await settle();
      return {
        success: true,
        message: `node ${node} is draining${req.force ? ' (in-flight requests cut)' : ''}`,
      };
    },
    async undrainNode(req) {
      const node = required(req.nodeId, 'node_id');
      await writer.undrain(node);
      await settle();
      return { success: true, message: `node ${node} takes requests again` };
    },
    async pinModel(req) {
      const mode = pinModeFromProto(req.mode);
      const p = await written(
        await writer.pin({
          model: required(req.model, 'model'),
          nodeIds: req.nodeIds,
          ...(req.minReplicas ? { minReplicas: req.minReplicas } : {}),
          ...(mode ? { mode } : {}),
          revision: req.revision,
          source: req.source,
          endpoint: req.endpoint,
        }),
      );
      return {
        success: true,
        message: `${req.model} pinned to ${p.targetNodes.join(', ')} (policy ${p.name})`,
      };
    },
    async unpinModel(req) {
      await writer.unpin(required(req.model, 'model'), req.nodeIds);
      await settle();
      return {
        success: true,
        message: `${req.model} unpinned${req.nodeIds.length ? ` from ${req.nodeIds.join(', ')}` : ''}`,
      };
    },
    listPlacements(_req, ctx) {
      const serving = new Map<string, Set<string>>();
      for (const m of source.modelStates())
        if (m.loaded) serving.set(m.model, (serving.get(m.model) ?? new Set()).add(m.node));
      const placements = [...read(ctx).policies.values()]
        .filter((p) => p.type === 'placement')
        .map((p) => placementToProto(p, serving.get(p.targetModels[0] ?? '') ?? new Set()))
        .sort((a, b) => a.model.localeCompare(b.model));
      return { placements };
    },
    async setPolicy(req) {
      const p = await written(
        await writer.setPolicy(policyInputFromProto(req.policy), optionalNumber(req.expectedRevision)),
      );
      return { policy: policyToProto(p) };
    },
    getPolicy(req, ctx) {
      const p = read(ctx).policies.get(required(req.name, 'name'));
      if (!p) throw new MeshError('not_found', `no policy "${req.name}"`);
      return { policy: policyToProto(p) };
    },
    async deletePolicy(req) {
      await writer.deletePolicy(required(req.name, 'name'));
      await settle();
      return { success: true };
    },
    listPolicies(req, ctx) {
      const type = policyTypeName(req.typeFilter);
      const policies = [...read(ctx).policies.values()]
        .filter((p) => !type || p.type === type)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(policyToProto);
      return { policies };
    },
    async createTenant(req) {
      const t = req.tenant;
      const tenant = await written(
        await writer.createTenant({
          id: t?.id,
          displayName: t?.displayName || undefined,
          defaultSloClass: t?.defaultSloClass || undefined,
        }),
      );
      return { tenant: tenantToProto(tenant) };
    },
    listTenants(_req, ctx) {
      const tenants = [...read(ctx).tenants.values()]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map(tenantToProto);
      return { tenants };
    },
    async deleteTenant(req) {
      const deleted = await writer.deleteTenant(required(req.id, 'id'));
      await settle();
      return { success: true, deletedPolicies: deleted.policies, revokedApiKeys: deleted.apiKeys };
    },
    async createApiKey(req) {
      const { key, ...record } = await written(
        await writer.createApiKey({ tenant: required(req.tenant, 'tenant'), name: req.name || undefined }),
      );
      return { apiKey: apiKeyToProto(record), secret: key };
    },
    listApiKeys(req, ctx) {
      const apiKeys = [...read(ctx).apiKeys.values()]
        .filter((k) => !req.tenant || k.tenant === req.tenant)
        .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.createdAt - b.createdAt)
        .map(apiKeyToProto);
      return { apiKeys };
    },
    async revokeApiKey(req) {
      await writer.revokeApiKey(required(req.keyId, 'key_id'));
      await settle();
      return { success: true };
    },
    async *subscribeEvents(req, ctx) {
      const types = req.types.map((t) => {
        const name = eventTypeFromProto(t);
        if (!name) throw new MeshError('invalid_request', `unknown event type ${t}`);
        return name;
      }) satisfies EventType[];
      for await (const e of readEvents(records.store, {
        sinceRevision: Number(req.sinceRevision),
        types,
        follow: req.follow,
        signal: ctx.signal,
      }))
        yield eventToProto(e);
    },
  };
}

const optionalNumber = (v: bigint | undefined): number | undefined =>
  v === undefined ? undefined : Number(v);
