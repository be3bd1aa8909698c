/**
 * What this node knows of the mesh's nodes: itself, the members gossip knows (with their meta),
 * and the peers its router follows that gossip does not know (`router.peers`). The ControlPlane's
 * ListNodes / GetNode / ListMembers read this.
 */
import type { MeshConfig } from '../core/config.ts';
import type { NodeInfo } from '../core/types.ts';
import { MESH_VERSION } from '../core/version.ts';
import type { MeshMember } from '../core/types.ts';
import type { MembershipRole } from './membership-role.ts';
import type { RouterRole } from './router-role.ts';

export interface NodeDirectory {
  nodes(): NodeInfo[];
  /** Gossip members, this node included; undefined when the node does not gossip. */
  members(): MeshMember[] | undefined;
  setApiUrl(url: string): void;
  setMembership(membership: MembershipRole): void;
}

function nodeStatus(m: MeshMember): NodeInfo['status'] {
  if (m.status === 'alive') return m.node?.draining ? 'draining' : 'healthy';
  return m.status === 'suspect' ? 'unhealthy' : 'offline';
}

export function createNodeDirectory(
  config: MeshConfig,
  deps: { router?: RouterRole; now?: () => number },
): NodeDirectory {
  const now = deps.now ?? Date.now;
  let apiUrl = '';
  let membership: MembershipRole | undefined;
  const lastSeen = new Map<string, number>();

  const fromMember = (m: MeshMember): NodeInfo => {
    if (m.status === 'alive') lastSeen.set(m.id, now());
    return {
      id: m.id,
      roles: m.node?.roles ?? [],
      zone: m.node?.zone ?? '',
      labels: { ...m.node?.labels },
      status: nodeStatus(m),
      lastSeen: lastSeen.get(m.id) ?? 0,
      version: m.node?.version ?? '',
      apiUrl: m.node?.apiUrl ?? '',
    };
  };

  return {
    setApiUrl(url) {
      apiUrl = url;
    },
    setMembership(m) {
      membership = m;
    },
    members: () => membership?.members(),
    nodes() {
      const self: NodeInfo = {
        id: config.node.id,
        roles: [...config.node.roles],
        zone: config.node.zone,
        labels: { ...config.node.labels },
        status: 'healthy',
        lastSeen: now(),
        version: MESH_VERSION,
        apiUrl,
      };
      const gossip = (membership?.members() ?? []).filter((m) => m.id !== config.node.id).map(fromMember);
      const known = new Set(gossip.map((n) => n.id));
      const peers = (deps.router?.peers.list() ?? [])
        .filter((p) => p.origin === 'config')
        .map((peer): NodeInfo => {
          const id = peer.id ?? peer.subscriber.peerNodeId() ?? peer.url;
          const connected = peer.subscriber.connected();
          if (connected) lastSeen.set(id, now());
          return {
            id,
            roles: ['gpu'],
            zone: '',
            labels: {},
            status: connected ? 'healthy' : 'unhealthy',
            lastSeen: lastSeen.get(id) ?? 0,
            version: '',
            apiUrl: peer.url,
          };
        })
        .filter((n) => !known.has(n.id));
      return [self, ...gossip, ...peers];
    },
  };
}
