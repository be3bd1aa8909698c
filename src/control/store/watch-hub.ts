/**
 * In-process watches for the embedded store. A watch first catches up from the history table, a
 * page at a time, then takes live batches as transactions commit. Both paths run on the one JS
 * thread and the switch from catch-up to live happens inside one synchronous step that reads up to
 * the current revision, so no revision is delivered twice or skipped. Delivery is always
 * asynchronous (setImmediate), in revision order, one batch per transaction.
 */
import { MeshError } from '../../core/errors.ts';
import { prefixEnd } from './keys.ts';
import type { StoreEvent, StoreWatch, StoreWatchOptions } from './types.ts';

/** One revision's events, as read from history or produced by a commit. */
export interface RevisionBatch {
  revision: number;
  events: StoreEvent[];
}

/** What the hub needs from the store. */
export interface WatchSource {
  currentRevision(): number;
  /** Highest revision whose history is gone; a watch must start above it. */
  compactedRevision(): number;
  /** Batches for keys in [start, end) with revisions in [from, to], in revision order. */
  readHistory(start: string, end: string | undefined, from: number, to: number): RevisionBatch[];
}

/** The hub: `publish` after each commit, `closeAll` when the store closes. */
export interface WatchHub {
  watch(prefix: string, opts: StoreWatchOptions): StoreWatch;
  publish(batch: RevisionBatch): void;
  closeAll(err: Error): void;
}

interface Watcher {
  prefix: string;
  end: string | undefined;
  opts: StoreWatchOptions;
  /** The next revision this watcher has not yet queued. */
  nextRev: number;
  caughtUp: boolean;
  queue: StoreEvent[][];
  scheduled: boolean;
  closed: boolean;
}

/** Revisions read per catch-up page, so a long catch-up does not hold the thread. */
const PAGE_REVISIONS = 1000;

/** Creates the hub over `source`. */
export function createWatchHub(source: WatchSource): WatchHub {
  const watchers = new Set<Watcher>();

  const fail = (w: Watcher, err: Error) => {
    if (w.closed) return;
    w.closed = true;
    watchers.delete(w);
    w.queue = [];
    w.opts.onError?.(err);
  };

  const drain = (w: Watcher) => {
    w.scheduled = false;
    if (w.closed) return;
    if (!w.caughtUp) {
      if (w.nextRev <= source.compactedRevision()) {
        fail(w, compactedError(w.nextRev, source.compactedRevision()));
        return;
      }
      const current = source.currentRevision();
      const to = Math.min(current, w.nextRev + PAGE_REVISIONS - 1);
      for (const batch of source.readHistory(w.prefix, w.end, w.nextRev, to)) w.queue.push(batch.events);
      w.nextRev = to + 1;
      // Same synchronous step as the read: no commit can slip between the last page and going live.
      if (w.nextRev > current) w.caughtUp = true;
      else schedule(w);
    }
    const batches = w.queue;
    w.queue = [];
    for (const events of batches) {
      if (w.closed) return;
      try {
        w.opts.onEvents(events);
      } catch (err) {
        // A throwing handler is a bug of the caller: surface it like an EventEmitter would, without
        // losing the batches after it.
        setImmediate(() => {
          throw err;
        });
      }
    }
  };

  const schedule = (w: Watcher) => {
    if (w.scheduled || w.closed) return;
    w.scheduled = true;
    setImmediate(() => drain(w));
  };

  return {
    watch(prefix, opts) {
      const current = source.currentRevision();
      const from = opts.fromRevision ?? current + 1;
      const w: Watcher = {
        prefix,
        end: prefixEnd(prefix),
        opts,
        nextRev: from,
        caughtUp: from > current,
        queue: [],
        scheduled: false,
        closed: false,
      };
      watchers.add(w);
      if (!w.caughtUp) schedule(w);
      return {
        close() {
          w.closed = true;
          watchers.delete(w);
        },
      };
    },
    publish(batch) {
      for (const w of watchers) {
        // A watch still catching up reads this revision from history; one that starts later skips it.
        if (!w.caughtUp || batch.revision < w.nextRev) continue;
        w.nextRev = batch.revision + 1;
        const events = batch.events.filter((e) => e.entry.key.startsWith(w.prefix));
        if (events.length === 0) continue;
        w.queue.push(events);
        schedule(w);
      }
    },
    closeAll(err) {
      for (const w of [...watchers]) fail(w, err);
    },
  };
}

/** The error a watch from a compacted revision fails with. */
export function compactedError(from: number, compacted: number): MeshError {
  return new MeshError(
    'not_found',
    `revision ${from} has been compacted (history starts after ${compacted}): list again and watch from its revision + 1`,
    { fromRevision: from, compactRevision: compacted },
  );
}
