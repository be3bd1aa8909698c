/** `mesh members`: the gossip members the endpoint's meshd knows, with their state and meta. */
import { memberStateName, nodeRolesFromProto } from '../../control/control-proto.ts';
import type { MeshMember, NodeRole } from '../../core/types.ts';
import type { MeshClients } from '../client.ts';
import type { TableView } from '../output.ts';

/** One member in `-o json|yaml` output. */
export interface MemberRow {
  id: string;
  state: MeshMember['status'];
  roles: NodeRole[];
  zone: string;
  /** Gossip address, `host:port`. */
  address: string;
  incarnation: number;
  apiUrl: string;
  gpus: { count: number; types: string[] };
  models: string[];
  draining: boolean;
  version: string;
  labels: Record<string, string>;
}

/** Calls ControlPlane.ListMembers; returns the JSON/YAML data and its table view. */
export async function listMembers(
  clients: MeshClients,
): Promise<{ data: { gossip: boolean; members: MemberRow[] }; view: TableView }> {
  const res = await clients.control.listMembers({}, clients.callOptions);
  const members = res.members.map((m): MemberRow => ({
    id: m.id,
    state: memberStateName(m.state),
    roles: nodeRolesFromProto(m.roles),
    zone: m.zone,
    address: m.address,
    incarnation: Number(m.incarnation),
    apiUrl: m.apiUrl,
    gpus: { count: m.gpuCount, types: m.gpuTypes },
    models: m.modelsTruncated ? [...m.models, '…'] : m.models,
    draining: m.draining,
    version: m.version,
    labels: m.labels,
  }));
  const view: TableView = {
    head: ['ID', 'STATE', 'ROLES', 'ZONE', 'ADDRESS', 'INCARNATION', 'API', 'GPUS', 'MODELS'],
    rows: members.map((m) => [
      m.id,
      m.draining && m.state === 'alive' ? 'alive (draining)' : m.state,
      m.roles.join(',') || '-',
      m.zone || '-',
      m.address,
      String(m.incarnation),
      m.apiUrl || '-',
      m.gpus.count > 0 ? `${m.gpus.count}× ${m.gpus.types.join(', ')}` : '-',
      m.models.join(', ') || '-',
    ]),
    ...(res.gossip ? {} : { footer: ['this node does not gossip (no membership.bind)'] }),
  };
  return { data: { gossip: res.gossip, members }, view };
}
