/**
 * Routers find GPU nodes through gossip: every member whose meta says `gpu` and names an API URL is
 * followed (its state streams mirrored), without listing it in `router.peers`. What gossip says
 * about a member, and what the router does:
 *
 * - join / alive again: follow it; one already followed whose stream is down is dialled again now;
 * - suspect: nothing (suspicions are often refuted within a probe interval or two);
 * - dead: recheck its stream (drop the connection and dial again). A node that really died (or is
 *   cut off from this router) fails to answer, its endpoints read unreachable and leave routing;
 *   one that is alive but whose gossip is lost (or a router cut off from gossip) keeps serving as
 *   long as its stream does. Stream health decides routing, gossip decides whom to follow. A peer
 *   both dead and unreachable for `forgetDeadAfterMs` is forgotten;
 * - leave: unfollow at once (a graceful leave: its endpoints are gone, not unknown).
 */
import type { Logger } from '../observability/log.ts';
import type { MemberEvent } from '../membership/index.ts';
import type { MeshMember } from '../core/types.ts';
import type { MembershipRole } from './membership-role.ts';
import type { PeerSet } from './peer-set.ts';

export interface GossipPeersOptions {
  /** The node's own id (never followed: its gpu role writes to the local stores directly). */
  selfId: string;
  /** URLs already followed through `router.peers`, not followed twice. */
  configuredUrls: readonly string[];
  logger: Logger;
  /** A member dead and unreachable this long is unfollowed. Default 10 minutes. */
  forgetDeadAfterMs?: number;
  now?: () => number;
}

const SWEEP_MS = 5000;

/** Keeps `peers` in step with gossip; returns the function that stops doing so. */
export function followGossip(membership: MembershipRole, peers: PeerSet, o: GossipPeersOptions): () => void {
  const now = o.now ?? Date.now;
  const forgetAfter = o.forgetDeadAfterMs ?? 10 * 60_000;
  const configured = new Set(o.configuredUrls);
  const key = (id: string) => `gossip:${id}`;
  const deadSince = new Map<string, number>();
  const followable = (m: MeshMember) =>
    m.id !== o.selfId &&
    m.node?.roles.includes('gpu') === true &&
    m.node.apiUrl !== '' &&
    !configured.has(m.node.apiUrl);

  const consider = (m: MeshMember) => {
    if (!followable(m) || !m.node) return;
    const k = key(m.id);
    if (m.status === 'dead') {
      if (!deadSince.has(m.id)) deadSince.set(m.id, now());
    } else deadSince.delete(m.id);
    switch (m.status) {
      case 'alive':
      case 'suspect': {
        const known = peers.get(k);
        peers.follow(k, { id: m.id, url: m.node.apiUrl, origin: 'gossip' });
        if (known && known.url === m.node.apiUrl && m.status === 'alive' && !known.subscriber.connected())
          known.subscriber.recheck();
        break;
      }
      case 'dead':
        peers.get(k)?.subscriber.recheck();
        break;
      case 'left':
        void peers.unfollow(k);
        break;
    }
  };

  for (const m of membership.members()) consider(m);
  const off = membership.member.on((e: MemberEvent) => {
    const m = membership.members().find((x) => x.id === e.member.id);
    if (m) consider(m);
    else {
      deadSince.delete(e.member.id);
      void peers.unfollow(key(e.member.id));
    }
    if (e.type === 'dead' || e.type === 'leave')
      o.logger.info({ member: e.member.id, event: e.type }, 'member gone');
  });
  const sweep = setInterval(() => {
    for (const [id, since] of deadSince) {
      const peer = peers.get(key(id));
      if (peer?.subscriber.connected() || now() - since < forgetAfter) continue;
      deadSince.delete(id);
      void peers.unfollow(key(id));
    }
  }, SWEEP_MS).unref();
  return () => {
    off();
    clearInterval(sweep);
  };
}
