/**
 * Router side of precise prefix routing: the peer companion (`peer-set.ts`) that mirrors every
 * followed GPU node's `WatchPrefixBlocks` into the scoring engine's precise index, and the
 * in-process feed for a router on a node that is also the gpu node. Only profiles with
 * `prefix: 'precise'` read the index (docs/PRECISE-PREFIX.md).
 */
import type { Logger } from '../observability/log.ts';
import type { ScoringEngine } from '../scoring/engine.ts';
import { feedLocalPrefixBlocks, type PrefixBlockHub } from '../signal/state/prefix-blocks.ts';
import { createRemotePrefixBlocksSubscriber } from '../signal/state/remote-prefix-blocks.ts';
import type { LinkTls } from '../security/pki/link-tls.ts';
import type { PeerCompanion } from './peer-set.ts';

/** Mirrors each followed peer's prefix blocks into `engine.precisePrefix`. */
export function prefixBlocksCompanion(deps: {
  engine: ScoringEngine;
  logger: Logger;
  linkTls?: LinkTls | undefined;
}): PeerCompanion {
  return (peer) => {
    const sub = createRemotePrefixBlocksSubscriber({
      url: peer.url,
      sink: deps.engine.precisePrefix,
      logger: deps.logger.child({ component: 'prefix-blocks', peer: peer.id ?? peer.url }),
      ...(deps.linkTls ? { connectOptions: deps.linkTls.clientOptions(peer.id) } : {}),
    });
    sub.start();
    return sub;
  };
}

/** Feeds this node's gpu role's block sets to its own router's engine; returns the stop function. */
export function feedLocalPrefixBlocksToEngine(hub: PrefixBlockHub, engine: ScoringEngine): () => void {
  return feedLocalPrefixBlocks(hub, engine.precisePrefix);
}
