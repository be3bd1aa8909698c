/**
 * Conversion between domain nodes/models and `infermesh.control.v1` messages, plus the lower-case
 * names the CLI prints. Enum mappings live here once, so the service and the CLI agree.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import type { MeshMember, NodeInfo, NodeRole } from '../core/types.ts';
import {
  MemberSchema,
  MemberState,
  ModelStatus,
  NodeRole as PbNodeRole,
  NodeSchema,
  NodeStatus as PbNodeStatus,
  type Member as PbMember,
  type Node as PbNode,
} from '../gen/infermesh/control/v1/control_pb.js';

const ROLE_TO_PB: Record<NodeRole, PbNodeRole> = {
  router: PbNodeRole.ROUTER,
  gpu: PbNodeRole.GPU,
  edge: PbNodeRole.EDGE,
};

const STATUS_TO_PB: Record<NodeInfo['status'], PbNodeStatus> = {
  healthy: PbNodeStatus.HEALTHY,
  unhealthy: PbNodeStatus.UNHEALTHY,
  draining: PbNodeStatus.DRAINING,
  offline: PbNodeStatus.OFFLINE,
};

/** Domain role → wire enum. */
export const nodeRoleToProto = (role: NodeRole): PbNodeRole => ROLE_TO_PB[role];
/** Domain status → wire enum. */
export const nodeStatusToProto = (status: NodeInfo['status']): PbNodeStatus => STATUS_TO_PB[status];

function reverse<K extends string, V>(map: Record<K, V>, value: V): K | undefined {
  return (Object.keys(map) as K[]).find((k) => map[k] === value);
}

/** Domain node → wire. */
export function nodeToProto(node: NodeInfo): PbNode {
  return create(NodeSchema, {
    id: node.id,
    roles: node.roles.map(nodeRoleToProto),
    zone: node.zone,
    labels: { ...node.labels },
    status: nodeStatusToProto(node.status),
    lastSeen: timestampFromMs(node.lastSeen),
    version: node.version,
    apiUrl: node.apiUrl,
  });
}

/** Wire → domain. Unknown roles are dropped; an unknown status reads as `offline`. */
export function nodeFromProto(pb: PbNode): NodeInfo {
  return {
    id: pb.id,
    roles: nodeRolesFromProto(pb.roles),
    zone: pb.zone,
    labels: { ...pb.labels },
    status: reverse(STATUS_TO_PB, pb.status) ?? 'offline',
    lastSeen: pb.lastSeen ? timestampMs(pb.lastSeen) : 0,
    version: pb.version,
    apiUrl: pb.apiUrl,
  };
}

const MEMBER_STATE_TO_PB: Record<MeshMember['status'], MemberState> = {
  alive: MemberState.ALIVE,
  suspect: MemberState.SUSPECT,
  dead: MemberState.DEAD,
  left: MemberState.LEFT,
};

/** Domain member → wire. */
export function memberToProto(m: MeshMember): PbMember {
  return create(MemberSchema, {
    id: m.id,
    state: MEMBER_STATE_TO_PB[m.status],
    roles: (m.node?.roles ?? []).map(nodeRoleToProto),
    zone: m.node?.zone ?? '',
    address: m.address,
    incarnation: BigInt(m.incarnation),
    apiUrl: m.node?.apiUrl ?? '',
    labels: { ...m.node?.labels },
    gpuCount: m.node?.gpuCount ?? 0,
    gpuTypes: m.node?.gpuTypes ?? [],
    models: m.node?.models ?? [],
    modelsTruncated: m.node?.modelsTruncated ?? false,
    draining: m.node?.draining ?? false,
    version: m.node?.version ?? '',
  });
}

/** Wire → the member's state name (`alive`, …); an unknown value reads as `dead`. */
export const memberStateName = (state: MemberState): MeshMember['status'] =>
  reverse(MEMBER_STATE_TO_PB, state) ?? 'dead';

/** Wire → the roles it names (unknown ones dropped). */
export const nodeRolesFromProto = (roles: readonly PbNodeRole[]): NodeRole[] =>
  roles.map((r) => reverse(ROLE_TO_PB, r)).filter((r): r is NodeRole => r !== undefined);

const MODEL_STATUS_NAMES: Record<ModelStatus, string> = {
  [ModelStatus.UNSPECIFIED]: 'unspecified',
  [ModelStatus.AVAILABLE]: 'available',
  [ModelStatus.LOADING]: 'loading',
  [ModelStatus.LOADED]: 'loaded',
  [ModelStatus.FAILED]: 'failed',
  [ModelStatus.UNLOADING]: 'unloading',
};

/** `ModelStatus.LOADED` → `loaded`: the stable name in CLI output. */
export const modelStatusName = (status: ModelStatus): string => MODEL_STATUS_NAMES[status] ?? 'unspecified';
