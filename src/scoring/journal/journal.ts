/**
 * The journal: the one ordered stream of routing events of a node. An engine never changes its
 * router-side state directly; it appends an event and the journal hands every event, its own and
 * other participants', back to the engine's `apply` in journal order. With one router thread the
 * journal is this in-process one (append = apply); with several, `shared-journal.ts` keeps it in
 * shared memory and every thread's engine is a replica of the same state.
 */
import type { RoutingEvent } from './events.ts';

/** What a journal drives in its engine. */
export interface JournalReplica {
  /** Applies one event (deterministic: reads only the event and state built by earlier events). */
  apply(event: RoutingEvent): void;
  /** Forgets every in-flight count (the replica missed events and cannot trust its counts). */
  reset(): void;
}

export interface Journal {
  /** This participant's id, the `origin` of the events it appends. */
  readonly origin: number;
  /** Binds the journal to the engine it feeds; called once by the engine. */
  attach(replica: JournalReplica): void;
  /** Appends `event`; when it returns, the event and every one before it have been applied. */
  append(event: RoutingEvent): void;
  /** Applies what other participants appended since the last call. */
  catchUp(): void;
  /**
   * Runs `fn` as the only deciding participant, after catching up: a decision and the `routed`
   * event it appends form one step that no other thread's decision interleaves.
   */
  exclusive<T>(fn: () => T): T;
}

/** The journal of a single router thread: nothing to share, an append is an apply. */
export function createLocalJournal(): Journal {
  let replica: JournalReplica | undefined;
  return {
    origin: 0,
    attach(r) {
      replica = r;
    },
    append(event) {
      replica?.apply(event);
    },
    catchUp() {},
    exclusive: (fn) => fn(),
  };
}
