/**
 * The GPU nodes a router follows: for each, a mirror of its state streams into the local stores
 * (`remote-state.ts`) plus whatever else rides along per peer (companions: prefix blocks, shared
 * in-flight counts). Peers come from `router.peers` (fixed) and from gossip (`gossip-peers.ts`),
 * which adds, rechecks and removes them as members come and go.
 */
import type { Logger } from '../observability/log.ts';
import type { LinkTls } from '../security/pki/link-tls.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import { createRemoteStateSubscriber, type RemoteStateSubscriber } from '../signal/state/remote-state.ts';
import type { StateStore } from '../signal/state/state-store.ts';

/** Where a peer came from. */
export type PeerOrigin = 'config' | 'gossip';

export interface Peer {
  /** Node id: configured, or from gossip; learned from the stream otherwise. */
  id?: string;
  /** Its API URL (StatePlane). */
  url: string;
  origin: PeerOrigin;
  subscriber: RemoteStateSubscriber;
}

/** Something started beside each peer's state mirror and stopped with it. */
export type PeerCompanion = (peer: { id?: string; url: string }) => { stop(): Promise<void> };

export interface PeerSet {
  list(): Peer[];
  get(key: string): Peer | undefined;
  /** Follows a peer under `key`; a known key with another URL is followed anew. */
  follow(key: string, peer: { id?: string; url: string; origin: PeerOrigin }): void;
  /** Stops following: its records leave the stores. */
  unfollow(key: string): Promise<void>;
  stop(): Promise<void>;
}

export interface PeerSetDeps {
  store: StateStore;
  gpus: GpuStore;
  logger: Logger;
  companions?: readonly PeerCompanion[];
  /**
   * The node's TLS (`security.tls`): each link presents its certificate and accepts only the
   * expected node (any node of the trust domain while the id is unknown).
   */
  linkTls?: LinkTls | undefined;
}

export function createPeerSet(deps: PeerSetDeps): PeerSet {
  const peers = new Map<string, { peer: Peer; companions: Array<{ stop(): Promise<void> }> }>();

  const unfollow = async (key: string) => {
    const entry = peers.get(key);
    if (!entry) return;
    peers.delete(key);
    await Promise.all([entry.peer.subscriber.stop(), ...entry.companions.map((c) => c.stop())]);
  };

  return {
    list: () => [...peers.values()].map((e) => e.peer),
    get: (key) => peers.get(key)?.peer,
    follow(key, { id, url, origin }) {
      const known = peers.get(key);
      if (known?.peer.url === url) return;
      if (known) void unfollow(key);
      const subscriber = createRemoteStateSubscriber({
        url,
        store: deps.store,
        gpus: deps.gpus,
        logger: deps.logger.child({ component: 'state-subscriber', peer: id ?? url }),
        ...(deps.linkTls ? { connectOptions: deps.linkTls.clientOptions(id) } : {}),
      });
      subscriber.start();
      const companions = (deps.companions ?? []).map((start) => start({ id, url }));
      peers.set(key, { peer: { id, url, origin, subscriber }, companions });
      deps.logger.info({ peer: id ?? url, url, origin }, 'following peer');
    },
    unfollow,
    async stop() {
      await Promise.all([...peers.keys()].map(unfollow));
    },
  };
}
