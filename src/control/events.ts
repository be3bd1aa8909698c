/**
 * Reading the event history: stored events after a revision, then (following) new ones from a
 * watch that starts right after the listed revision, so a subscriber that resumes from the last
 * revision it saw gets every later event once: no gap, no duplicate.
 */
import { MeshError } from '../core/errors.ts';
import { EVENTS_PREFIX } from './model/keys.ts';
import type { EventType } from './model/names.ts';
import type { EventRecord, MeshEvent } from './model/records.ts';
import type { ControlStore, StoreEntry, StoreEvent } from './store/types.ts';

export interface EventQuery {
  /** Only events recorded after this revision. */
  sinceRevision: number;
  /** Empty: every type. */
  types: readonly EventType[];
  follow: boolean;
  signal?: AbortSignal;
}

function toEvent(entry: StoreEntry): MeshEvent | undefined {
  try {
    return { ...(JSON.parse(entry.value) as EventRecord), revision: entry.modRevision };
  } catch {
    return undefined; // not ours (written by hand): skipped
  }
}

/** Events matching `q` in revision order; with `follow`, runs until `q.signal` aborts. */
export async function* readEvents(store: ControlStore, q: EventQuery): AsyncGenerator<MeshEvent> {
  const wanted = (e: MeshEvent | undefined): e is MeshEvent =>
    e !== undefined && e.revision > q.sinceRevision && (q.types.length === 0 || q.types.includes(e.type));
  const { entries, revision } = await store.list(EVENTS_PREFIX);
  const history = entries
    .map(toEvent)
    .filter(wanted)
    .sort((a, b) => a.revision - b.revision);
  if (!q.follow) {
    yield* history;
    return;
  }
  // The watch starts before the history is sent, so nothing written meanwhile is missed.
  const queue: MeshEvent[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const watch = store.watch(EVENTS_PREFIX, {
    fromRevision: revision + 1,
    onEvents(events: StoreEvent[]) {
      for (const ev of events) {
        const e = ev.type === 'put' ? toEvent(ev.entry) : undefined;
        if (wanted(e)) queue.push(e);
      }
      notify();
    },
    onError(err) {
      failure = err;
      notify();
    },
  });
  const onAbort = () => notify();
  q.signal?.addEventListener('abort', onAbort);
  try {
    yield* history;
    let last = history.at(-1)?.revision ?? revision;
    while (!q.signal?.aborted) {
      if (failure) throw MeshError.from(failure, 'unavailable');
      const next = queue.shift();
      if (next) {
        if (next.revision > last) yield next;
        last = Math.max(last, next.revision);
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    q.signal?.removeEventListener('abort', onAbort);
    watch.close();
  }
}
