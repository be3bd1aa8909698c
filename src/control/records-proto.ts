/**
 * Conversion between the control records (model/records.ts) and `infermesh.control.v1` messages:
 * policies, tenants, placements, API keys and events, with their enums mapped once here.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { EventType as PbEventType } from '../gen/infermesh/control/v1/control_pb.js';
import {
  ApiKeySchema,
  EventSchema,
  PinMode,
  PlacementSchema,
  PolicySchema,
  PolicyType as PbPolicyType,
  TenantSchema,
  type ApiKey as PbApiKey,
  type Event as PbEvent,
  type Placement as PbPlacement,
  type Policy as PbPolicy,
  type Tenant as PbTenant,
} from '../gen/infermesh/control/v1/control_pb.js';
import type { Revised } from './control-view.ts';
import { EVENT_TYPES, type EventType } from './model/names.ts';
import type { ApiKeyRecord, MeshEvent, PolicyRecord, TenantRecord } from './model/records.ts';

const POLICY_TYPE_TO_PB = {
  placement: PbPolicyType.PLACEMENT,
  quota: PbPolicyType.QUOTA,
  slo: PbPolicyType.SLO,
  security: PbPolicyType.SECURITY,
} as const;

/** Wire → the policy type name the schema checks (`''` for unspecified: the schema reports it). */
export function policyTypeName(type: PbPolicyType): string {
  const found = Object.entries(POLICY_TYPE_TO_PB).find(([, v]) => v === type);
  return found ? found[0] : '';
}

export const policyTypeToProto = (name: PolicyRecord['type']): PbPolicyType => POLICY_TYPE_TO_PB[name];

/** Wire → the input the policy schema validates (it reports whatever is wrong). */
export function policyInputFromProto(p: PbPolicy | undefined): unknown {
  if (!p) return undefined;
  return {
    name: p.name,
    type: policyTypeName(p.type),
    targetNodes: [...p.targetNodes],
    targetModels: [...p.targetModels],
    spec: p.spec ?? {},
  };
}

export function policyToProto(p: Revised<PolicyRecord>): PbPolicy {
  return create(PolicySchema, {
    name: p.name,
    type: policyTypeToProto(p.type),
    targetNodes: p.targetNodes,
    targetModels: p.targetModels,
    spec: JSON.parse(JSON.stringify(p.spec)) as Record<string, never>,
    createdAt: timestampFromMs(p.createdAt),
    updatedAt: timestampFromMs(p.updatedAt),
    revision: BigInt(p.revision),
  });
}

export function tenantToProto(t: Revised<TenantRecord>): PbTenant {
  return create(TenantSchema, {
    id: t.id,
    displayName: t.displayName,
    defaultSloClass: t.defaultSloClass,
    createdAt: timestampFromMs(t.createdAt),
    revision: BigInt(t.revision),
  });
}

/** An API key as the API shows it: never its salt or hash. */
export function apiKeyToProto(k: Revised<ApiKeyRecord>): PbApiKey {
  return create(ApiKeySchema, {
    keyId: k.id,
    tenant: k.tenant,
    name: k.name,
    createdAt: timestampFromMs(k.createdAt),
    revision: BigInt(k.revision),
  });
}

/** Event types in the proto's order after UNSPECIFIED: EVENT_TYPES lists them in the same order. */
export const eventTypeToProto = (type: EventType): PbEventType => EVENT_TYPES.indexOf(type) + 1;
export const eventTypeFromProto = (type: PbEventType): EventType | undefined => EVENT_TYPES[type - 1];

export function eventToProto(e: MeshEvent): PbEvent {
  return create(EventSchema, {
    id: String(e.revision),
    type: eventTypeToProto(e.type),
    timestamp: timestampFromMs(e.at),
    sourceNode: e.source,
    data: e.data,
    revision: BigInt(e.revision),
  });
}

export const pinModeToProto = (mode: 'prefer' | 'require'): PinMode =>
  mode === 'require' ? PinMode.REQUIRE : PinMode.PREFER;
export const pinModeFromProto = (mode: PinMode): 'prefer' | 'require' | undefined =>
  mode === PinMode.REQUIRE ? 'require' : mode === PinMode.PREFER ? 'prefer' : undefined;

/** A placement policy and the pinned nodes that serve its model now. */
export function placementToProto(p: Revised<PolicyRecord>, servingNodes: ReadonlySet<string>): PbPlacement {
  const spec = p.type === 'placement' ? p.spec : { mode: 'prefer' as const, minReplicas: undefined };
  const loaded = p.targetNodes.filter((n) => servingNodes.has(n));
  const min = spec.minReplicas ?? p.targetNodes.length;
  return create(PlacementSchema, {
    model: p.targetModels[0] ?? '',
    mode: pinModeToProto(spec.mode),
    pinnedNodes: p.targetNodes,
    minReplicas: min,
    loadedNodes: loaded,
    state: loaded.length >= min ? 'ok' : 'degraded',
    revision: BigInt(p.revision),
  });
}
