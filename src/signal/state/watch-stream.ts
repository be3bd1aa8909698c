/**
 * The server side of a state watch (`WatchModelStates`, `WatchGpuStates`): snapshot, marker, then
 * changes. Pending changes are coalesced per record, so a slow client costs at most one queued
 * event per record and always ends up with the latest state.
 */
import type { HandlerContext } from '@connectrpc/connect';

/** A store as a watch sees it; model and GPU stores both fit. */
export interface WatchSource<T> {
  watch(listener: (event: { type: 'upsert' | 'remove'; state: T }) => void): () => void;
  /** The records matching the filter, in the order the snapshot is sent. */
  snapshot(): T[];
  matches(state: T): boolean;
  key(state: T): string;
}

/** How records and the marker become wire events. */
export interface WatchEvents<T, E> {
  upsert(state: T): E;
  remove(state: T): E;
  done(count: number): E;
}

/** Streams `source` to one client until it cancels or the server shuts down (`ctx.signal`). */
export async function* watchStream<T, E>(
  source: WatchSource<T>,
  events: WatchEvents<T, E>,
  ctx: HandlerContext,
): AsyncGenerator<E> {
  // Records the client holds (or will hold once the queue drains): decides upsert vs remove.
  const visible = new Set<string>();
  const pending = new Map<string, () => E>();
  let wake: (() => void) | undefined;

  const onEvent = (event: { type: 'upsert' | 'remove'; state: T }) => {
    const key = source.key(event.state);
    const { state } = event;
    if (event.type === 'upsert' && source.matches(state)) {
      visible.add(key);
      pending.set(key, () => events.upsert(state));
    } else if (visible.delete(key)) {
      pending.set(key, () => events.remove(state));
    } else {
      return;
    }
    wake?.();
  };
  // Subscribe and list in the same tick: the stores are synchronous, so nothing falls in between.
  const unsubscribe = source.watch(onEvent);
  const onAbort = () => wake?.();
  ctx.signal.addEventListener('abort', onAbort);
  try {
    const snapshot = source.snapshot();
    for (const state of snapshot) visible.add(source.key(state));
    for (const state of snapshot) {
      if (ctx.signal.aborted) return;
      yield events.upsert(state);
    }
    yield events.done(snapshot.length);
    while (!ctx.signal.aborted) {
      if (pending.size === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const [key, make] = pending.entries().next().value as [string, () => E];
      pending.delete(key);
      yield make();
    }
  } finally {
    unsubscribe();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
