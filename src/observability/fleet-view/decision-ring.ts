/**
 * The node's last routing decisions, with their outcomes joined by decision id: a fixed ring (the
 * oldest goes when it is full), fed by the router's threads only while someone watches (the
 * `watchFlag` they read on every pick). The decisions stay after the last watcher leaves, so a
 * dashboard opened again shows the latest ones at once.
 */
import type { DecisionOutcome, DecisionRecord, OutcomeReport } from '../../core/decision-record.ts';

export interface DecisionRing {
  /** The main thread's router (journal participant 0) records through these, as a `DecisionRecorder`. */
  readonly worker: number;
  watching(): boolean;
  decided(record: DecisionRecord): void;
  outcome(id: string, outcome: DecisionOutcome): void;
  /** A worker thread's batch: its decisions, then the outcomes it saw. */
  apply(batch: { decisions: readonly DecisionRecord[]; outcomes: readonly OutcomeReport[] }): void;
  /** Oldest first. */
  list(): DecisionRecord[];
  /** `listener` gets each decision added and each one whose outcome arrived; returns the unsubscribe. */
  onChange(listener: (record: DecisionRecord) => void): () => void;
  /** One Int32 in shared memory: non-zero while someone watches (router worker threads read it). */
  readonly watchFlag: SharedArrayBuffer;
  setWatching(on: boolean): void;
}

/** Decisions kept by default. */
export const DEFAULT_DECISIONS = 200;

export function createDecisionRing(capacity = DEFAULT_DECISIONS): DecisionRing {
  const watchFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(watchFlag);
  const byId = new Map<string, DecisionRecord>();
  const order: string[] = [];
  const listeners = new Set<(record: DecisionRecord) => void>();
  const emit = (record: DecisionRecord) => {
    for (const l of listeners) l(record);
  };
  const decided = (record: DecisionRecord) => {
    if (byId.has(record.id)) return;
    byId.set(record.id, record);
    order.push(record.id);
    while (order.length > capacity) byId.delete(order.shift()!);
    emit(record);
  };
  const outcome = (id: string, result: DecisionOutcome) => {
    const record = byId.get(id);
    // Evicted meanwhile, or the outcome of a decision made before anyone watched: nothing to join.
    if (!record || record.outcome) return;
    const joined = { ...record, outcome: result };
    byId.set(id, joined);
    emit(joined);
  };
  return {
    worker: 0,
    watching: () => Atomics.load(flag, 0) !== 0,
    decided,
    outcome,
    apply(batch) {
      for (const d of batch.decisions) decided(d);
      for (const o of batch.outcomes) outcome(o.id, o.outcome);
    },
    list: () => order.map((id) => byId.get(id)!),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    watchFlag,
    setWatching(on) {
      Atomics.store(flag, 0, on ? 1 : 0);
    },
  };
}
