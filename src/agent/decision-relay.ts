/**
 * Decisions of router worker threads, carried to the main thread's decision ring only while
 * someone watches. The switch is one Int32 in shared memory that the ring sets while a dashboard
 * is connected: every worker reads it on each pick (no message needed to turn it on, and a worker
 * started later sees it at once). While it is on, a worker batches its watched decisions and
 * their outcomes and posts them on its control port every `FLUSH_MS` (one message, not one per
 * request); while it is off, nothing is explained, batched or posted.
 */
import type { DecisionOutcome, DecisionRecord, OutcomeReport } from '../core/decision-record.ts';
import type { DecisionRecorder } from '../data/decision-recorder.ts';

/** What a worker posts: decisions first, then outcomes (an outcome never precedes its decision). */
export interface DecisionBatch {
  decisions: DecisionRecord[];
  outcomes: OutcomeReport[];
}

/** How often a worker posts what it recorded. */
const FLUSH_MS = 100;
/** A batch this full is posted at once. */
const MAX_BATCH = 256;

/** A worker's recorder: reads the node's watch switch, batches to `post`. */
export function workerDecisionRecorder(
  worker: number,
  watchFlag: SharedArrayBuffer,
  post: (batch: DecisionBatch) => void,
): DecisionRecorder & { stop(): void } {
  const flag = new Int32Array(watchFlag);
  let batch: DecisionBatch = { decisions: [], outcomes: [] };
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (batch.decisions.length === 0 && batch.outcomes.length === 0) return;
    const out = batch;
    batch = { decisions: [], outcomes: [] };
    post(out);
  };
  const queued = () => {
    if (batch.decisions.length + batch.outcomes.length >= MAX_BATCH) flush();
    else timer ??= setTimeout(flush, FLUSH_MS).unref();
  };
  return {
    worker,
    watching: () => Atomics.load(flag, 0) !== 0,
    decided(record: DecisionRecord) {
      batch.decisions.push(record);
      queued();
    },
    outcome(id: string, outcome: DecisionOutcome) {
      batch.outcomes.push({ id, outcome });
      queued();
    },
    stop() {
      clearTimeout(timer);
      flush();
    },
  };
}
