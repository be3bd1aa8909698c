/**
 * Keeps an engine's fleet in step with a state store: every upsert refreshes the endpoint's view
 * (scraped state changes once per scrape, not per request), every removal forgets it.
 */
import type { StateStore } from '../signal/state/state-store.ts';
import type { ScoringEngine } from './engine.ts';

/** Loads the store's records into `engine` and follows its changes; returns the unsubscribe function. */
export function syncEngineWithStore(engine: ScoringEngine, store: StateStore): () => void {
  const stop = store.watch((event) => {
    if (event.type === 'upsert') engine.fleet.upsert(event.state);
    else engine.forget(event.state.endpointId, event.state.model);
  });
  for (const s of store.list()) engine.fleet.upsert(s);
  return stop;
}
