/**
 * What this node knows of the mesh's nodes: itself, and the peers its router subscribes to.
 * Membership by gossip replaces the peer list in a later issue; the ControlPlane reads this.
 */
import type { MeshConfig } from '../core/config.ts';
import type { NodeInfo } from '../core/types.ts';
import { MESH_VERSION } from '../core/version.ts';
import type { RouterRole } from './router-role.ts';

export interface NodeDirectory {
  nodes(): NodeInfo[];
  setApiUrl(url: string): void;
}

export function createNodeDirectory(
  config: MeshConfig,
  deps: { router?: RouterRole; now?: () => number },
): NodeDirectory {
  const now = deps.now ?? Date.now;
  let apiUrl = '';
  const lastSeen = new Map<string, number>();

  return {
    setApiUrl(url) {
      apiUrl = url;
    },
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
      const peers = (deps.router?.peers ?? []).map((peer): NodeInfo => {
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
      });
      return [self, ...peers];
    },
  };
}
