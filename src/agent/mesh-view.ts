/**
 * What this node can see of the mesh, for `/readyz` detail and the membership gauges: gossip
 * members by state and the GPU nodes the router follows, each reachable or not. A router cut off
 * from part of the mesh stays ready (it routes to what it reaches) and says what it lost here.
 */
import type { MeshViewSource } from '../observability/metrics.ts';
import type { MembershipRole } from './membership-role.ts';
import type { PeerSet } from './peer-set.ts';

export interface MeshView extends MeshViewSource {
  detail(): Record<string, unknown>;
}

export function createMeshView(parts: { membership?: MembershipRole; peers?: PeerSet }): MeshView {
  const memberStates = () => (parts.membership?.members() ?? []).map((m) => m.status);
  const peers = () =>
    (parts.peers?.list() ?? []).map((p) => ({
      peer: p.id ?? p.subscriber.peerNodeId() ?? p.url,
      url: p.url,
      origin: p.origin,
      up: p.subscriber.connected(),
    }));
  return {
    memberStates,
    peers,
    detail() {
      const detail: Record<string, unknown> = {};
      if (parts.membership) {
        const states: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
        for (const s of memberStates()) states[s] = (states[s] ?? 0) + 1;
        detail.gossip = {
          address: parts.membership.address,
          joined: parts.membership.joined(),
          members: states,
        };
      }
      if (parts.peers) {
        const list = peers();
        detail.peers = list;
        // Endpoints of unreachable peers are unknown: kept, marked unhealthy, routed around.
        detail.unreachablePeers = list.filter((p) => !p.up).map((p) => p.peer);
      }
      return detail;
    },
  };
}
