/** Test fixture: the router-side numbers of an engine replica, after catching up, for comparison. */
import type { ScoringEngine } from '../../engine.ts';

export function replicaState(engine: ScoringEngine): number[][] {
  engine.sync();
  return engine.fleet
    .forModel('m')
    .map((v) => [v.inFlight, v.inFlightTokens, v.busyUntilMs, v.observedP95Ms, v.e2eMs, v.prefixBlocks]);
}
