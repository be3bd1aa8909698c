/** `mesh list-nodes [-r role] [-s status]`: the nodes the endpoint's meshd knows. */
import { nodeFromProto, nodeRoleToProto, nodeStatusToProto } from '../../control/control-proto.ts';
import type { NodeInfo, NodeRole } from '../../core/types.ts';
import {
  NodeRole as PbNodeRole,
  NodeStatus as PbNodeStatus,
} from '../../gen/infermesh/control/v1/control_pb.js';
import type { MeshClients } from '../client.ts';
import { isoOrNull, type TableView } from '../output.ts';

/** Values of `--status`, as NodeInfo spells them. */
export const NODE_STATUSES = ['healthy', 'unhealthy', 'draining', 'offline'] as const;

/** One node in `-o json|yaml` output. */
export interface NodeRow {
  id: string;
  roles: NodeRole[];
  status: NodeInfo['status'];
  zone: string;
  apiUrl: string;
  version: string;
  /** ISO time, null when never seen. */
  lastSeen: string | null;
  labels: Record<string, string>;
}

/** The command's own options (`-r`, `-s`). */
export interface ListNodesOptions {
  role?: NodeRole;
  status?: NodeInfo['status'];
}

/** Calls ControlPlane.ListNodes; returns the JSON/YAML data and its table view. */
export async function listNodes(
  clients: MeshClients,
  opts: ListNodesOptions,
): Promise<{ data: { nodes: NodeRow[] }; view: TableView }> {
  const res = await clients.control.listNodes(
    {
      roleFilter: opts.role ? nodeRoleToProto(opts.role) : PbNodeRole.UNSPECIFIED,
      statusFilter: opts.status ? nodeStatusToProto(opts.status) : PbNodeStatus.UNSPECIFIED,
    },
    clients.callOptions,
  );
  const nodes = res.nodes.map(nodeFromProto).map((n): NodeRow => ({
    id: n.id,
    roles: n.roles,
    status: n.status,
    zone: n.zone,
    apiUrl: n.apiUrl,
    version: n.version,
    lastSeen: isoOrNull(n.lastSeen),
    labels: n.labels,
  }));
  const view: TableView = {
    head: ['ID', 'ROLES', 'STATUS', 'ZONE', 'API', 'VERSION', 'LAST SEEN'],
    rows: nodes.map((n) => [
      n.id,
      n.roles.join(','),
      n.status,
      n.zone || '-',
      n.apiUrl || '-',
      n.version || '-',
      n.lastSeen ?? '-',
    ]),
  };
  return { data: { nodes }, view };
}
