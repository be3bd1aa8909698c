/**
 * The first scorer: picks the endpoint for a model from live state plus the router's own in-flight
 * count. Polled runtime metrics lag by a scrape interval; the router's own count is updated at
 * once, so a burst does not pile onto one endpoint whose metrics still look idle. The full
 * scoring engine (filters → scorers → picker) replaces this with its own issue.
 */
import { MeshError } from '../core/errors.ts';
import type { ModelState } from '../core/types.ts';
import type { StateStore } from '../signal/state/state-store.ts';

export interface EndpointSelector {
  /**
   * Best endpoint for `model`, skipping endpoint ids in `exclude` (already tried).
   * Throws `model_not_found` when no endpoint knows the model, `no_healthy_endpoint` when none can serve it.
   */
  pick(model: string, exclude?: ReadonlySet<string>): ModelState;
  /** Counts a request against an endpoint until the returned function is called. */
  acquire(endpointId: string): () => void;
  inFlight(endpointId: string): number;
  /** Models at least one routable endpoint serves. */
  servedModels(): string[];
}

/** Stale state (one failed scrape) is still routable; unhealthy or unloaded is not. */
export const isRoutable = (s: ModelState): boolean => s.loaded && s.health !== 'unhealthy';

export function createEndpointSelector(
  store: StateStore,
  random: () => number = Math.random,
): EndpointSelector {
  const inFlight = new Map<string, number>();
  const own = (id: string) => inFlight.get(id) ?? 0;

  /** Work queued at the endpoint: what it reported, or what we know we sent if that is more. */
  const cost = (s: ModelState): number => {
    const reported = (s.running ?? 0) + (s.queueDepth ?? 0);
    const load = Math.max(own(s.endpointId), reported);
    // KV pressure breaks ties between equally loaded endpoints; stale state is distrusted a little.
    return load + (s.kvCacheUsage ?? 0) + (s.health === 'stale' ? 0.5 : 0);
  };

  return {
    pick(model, exclude = new Set()) {
      const states = store.list({ model });
      if (states.length === 0) {
        throw new MeshError('model_not_found', `The model \`${model}\` does not exist.`, { param: 'model' });
      }
      const usable = states.filter((s) => isRoutable(s) && !exclude.has(s.endpointId));
      if (usable.length === 0) {
        throw new MeshError('no_healthy_endpoint', `no healthy endpoint serves model \`${model}\``, {
          endpoints: states.length,
        });
      }
      let best: ModelState[] = [];
      let bestCost = Infinity;
      for (const s of usable) {
        const c = cost(s);
        if (c < bestCost - 1e-9) {
          best = [s];
          bestCost = c;
        } else if (Math.abs(c - bestCost) <= 1e-9) best.push(s);
      }
      // Spread ties at random so idle endpoints share a burst instead of one taking it all.
      return best[Math.floor(random() * best.length)] ?? best[0]!;
    },
    acquire(endpointId) {
      inFlight.set(endpointId, own(endpointId) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = own(endpointId) - 1;
        if (left <= 0) inFlight.delete(endpointId);
        else inFlight.set(endpointId, left);
      };
    },
    inFlight: own,
    servedModels: () =>
      [
        ...new Set(
          store
            .list()
            .filter(isRoutable)
            .map((s) => s.model),
        ),
      ].sort(),
  };
}
