/**
 * The upstream attempts in flight, by the node their endpoint runs on, so that a forced drain of
 * a node can cut them: each is aborted like any upstream failure, so one not yet answering is
 * retried on another node (the drain already keeps the gate closed to this one) and a committed
 * stream ends with its protocol's error event. An attempt that starts after the drain was forced
 * (picked just before it) is aborted as it starts.
 */
import type { Dispatcher } from 'undici';
import { MeshError } from '../core/errors.ts';

export interface NodeAttempts {
  /** Registers an attempt on `node`; returns its removal (call it when the attempt ends). */
  add(node: string, controller: Dispatcher.DispatchController): () => void;
  /** The nodes drained with force now: their attempts in flight are aborted, later ones at start. */
  forceDrain(nodes: ReadonlySet<string>): void;
  /** Attempts in flight to `node`. */
  count(node: string): number;
}

const forcedError = (node: string) =>
  new MeshError('unavailable', `node ${node} was drained with force; its requests were cut`, { node });

export function createNodeAttempts(): NodeAttempts {
  const byNode = new Map<string, Set<Dispatcher.DispatchController>>();
  let forced: ReadonlySet<string> = new Set();
  return {
    add(node, controller) {
      if (forced.has(node)) {
        controller.abort(forcedError(node));
        return () => undefined;
      }
      let set = byNode.get(node);
      if (!set) byNode.set(node, (set = new Set()));
      set.add(controller);
      return () => {
        set.delete(controller);
        if (set.size === 0 && byNode.get(node) === set) byNode.delete(node);
      };
    },
    forceDrain(nodes) {
      forced = nodes;
      for (const node of nodes) {
        const set = byNode.get(node);
        if (!set) continue;
        byNode.delete(node);
        for (const c of set) c.abort(forcedError(node));
      }
    },
    count: (node) => byNode.get(node)?.size ?? 0,
  };
}
