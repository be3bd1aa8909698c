/**
 * The gpu role's precise prefix state: one KV-event subscriber per endpoint that publishes events
 * (a runtime's `kvEvents`, a simulator's `kvEvents`), each keeping its endpoint's block set in the
 * node's `PrefixBlockHub`, which `StatePlane.WatchPrefixBlocks` streams to routers and
 * `feedLocalPrefixBlocks` hands to a router on this node.
 */
import type { Logger } from '../observability/log.ts';
import { createEndpointBlockState } from '../signal/runtime/vllm/kv-events/block-state.ts';
import {
  createKvEventSubscriber,
  type KvEventSubscriber,
} from '../signal/runtime/vllm/kv-events/subscriber.ts';
import { createPrefixBlockHub, type PrefixBlockHub } from '../signal/state/prefix-blocks.ts';

/** One endpoint whose runtime publishes KV events. */
export interface KvEventSource {
  /** `<node>/<endpoint name>`, as its ModelState's `endpointId`. */
  endpointId: string;
  endpoint: string;
  replayEndpoint?: string;
  topic?: string;
}

export interface PrefixBlockFeeds {
  hub: PrefixBlockHub;
  subscribers: ReadonlyMap<string, KvEventSubscriber>;
  stop(): Promise<void>;
}

/** Subscribes to every source; returns at once (the sockets connect in the background). */
export function startPrefixBlockFeeds(sources: readonly KvEventSource[], logger?: Logger): PrefixBlockFeeds {
  const hub = createPrefixBlockHub();
  const subscribers = new Map<string, KvEventSubscriber>();
  for (const s of sources) {
    const state = createEndpointBlockState({
      onDelta: (d) => hub.apply({ ...d, endpointId: s.endpointId }),
    });
    const sub = createKvEventSubscriber({
      endpoint: s.endpoint,
      ...(s.replayEndpoint ? { replayEndpoint: s.replayEndpoint } : {}),
      ...(s.topic ? { topic: s.topic } : {}),
      state,
      ...(logger ? { logger } : {}),
    });
    sub.start();
    subscribers.set(s.endpointId, sub);
  }
  return {
    hub,
    subscribers,
    async stop() {
      await Promise.all([...subscribers.values()].map((s) => s.stop()));
      for (const id of subscribers.keys())
        hub.apply({
          endpointId: id,
          blockSize: 0,
          reset: true,
          added: [],
          removed: [],
          rebuilding: false,
          gone: true,
        });
    },
  };
}
