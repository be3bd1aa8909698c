/**
 * The node's state stores, mirrored into another thread of the same process over a MessagePort:
 * the main thread publishes a snapshot and then every change of the model and GPU stores (and the
 * set of GPUs its own quarantine holds), in order; the other thread keeps mirror stores that its
 * scoring engine follows exactly as the main thread's engine follows the originals. Changes come
 * once per scrape, not per request, so each goes as its own message.
 */
import type { MessagePort } from 'node:worker_threads';
import type { GpuState } from '../../core/gpu.ts';
import type { ModelState } from '../../core/types.ts';
import { createGpuStore, type GpuStore } from './gpu-store.ts';
import { createStateStore, type StateStore } from './state-store.ts';

type FeedMessage =
  | { kind: 'model'; type: 'upsert' | 'remove'; state: ModelState }
  | { kind: 'gpu'; type: 'upsert' | 'remove'; state: GpuState }
  | { kind: 'quarantined'; uuids: string[] };

/** The GPUs this node's own quarantine holds now, and a way to hear when that changes. */
export interface QuarantineFeed {
  list(): string[];
  onChange(listener: () => void): () => void;
}

export interface FeedSource {
  store: StateStore;
  gpus: GpuStore;
  quarantined?: QuarantineFeed;
}

/** Publishes `source` on `port` until the returned function is called (or the port closes). */
export function publishState(port: MessagePort, source: FeedSource): () => void {
  const send = (m: FeedMessage) => port.postMessage(m);
  for (const state of source.store.list()) send({ kind: 'model', type: 'upsert', state });
  for (const state of source.gpus.list()) send({ kind: 'gpu', type: 'upsert', state });
  const sendQuarantined = () => send({ kind: 'quarantined', uuids: source.quarantined?.list() ?? [] });
  sendQuarantined();
  const stops = [
    source.store.watch((e) => send({ kind: 'model', type: e.type, state: e.state })),
    source.gpus.watch((e) => send({ kind: 'gpu', type: e.type, state: e.state })),
    source.quarantined?.onChange(sendQuarantined) ?? (() => undefined),
  ];
  const stop = () => {
    for (const s of stops) s();
  };
  port.once('close', stop);
  return stop;
}

/** The receiving side: stores kept equal to the publisher's, and its quarantined GPUs. */
export interface StateMirror {
  store: StateStore;
  gpus: GpuStore;
  /** Whether this node's own quarantine holds `uuid`. */
  isQuarantined(uuid: string): boolean;
}

export function mirrorState(port: MessagePort): StateMirror {
  const store = createStateStore();
  const gpus = createGpuStore();
  let quarantined = new Set<string>();
  port.on('message', (m: FeedMessage) => {
    if (m.kind === 'model') {
      if (m.type === 'upsert') store.upsert(m.state);
      else store.remove(m.state.endpointId, m.state.model);
    } else if (m.kind === 'gpu') {
      if (m.type === 'upsert') gpus.upsert(m.state);
      else gpus.remove(m.state.node, m.state.uuid);
    } else {
      quarantined = new Set(m.uuids);
    }
  });
  return { store, gpus, isQuarantined: (uuid) => quarantined.has(uuid) };
}
