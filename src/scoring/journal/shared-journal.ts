/**
 * The node's journal in shared memory, for a router on several threads: one ring of 64-byte
 * slots in a SharedArrayBuffer that every thread's engine replica appends to and reads from.
 *
 * - Append: reserve slots with one `Atomics.add` on the tail, copy the record in, then publish it
 *   by storing its commit tag (its position + 1) with `Atomics.store`. Readers apply records in
 *   slot order and stop at the first one not yet published, so every replica applies the same
 *   events in the same order, and an `append` returns once everything up to its own event has
 *   been applied here.
 * - Decisions: `exclusive` holds a lock word (`Atomics.compareExchange`, `Atomics.wait` when
 *   contended) around catch-up, decision and the `routed` append, so no two threads decide on the
 *   same state: the node routes as one router, whichever thread took the request.
 * - Faults: a reader that falls a whole ring behind (a thread stalled for seconds) cannot trust
 *   its counts; it forgets its in-flight numbers (`reset`) and goes on from the tail. A slot
 *   reserved but never published (its thread died mid-write) is skipped after `STUCK_MS`.
 */
import { KeyTable, RecordBuffer, SLOT_BYTES, decodeEvent, encodeEvent } from './codec.ts';
import type { Journal, JournalReplica } from './journal.ts';

/**
 * Control words at the start of the buffer (Int32 indexes), then the ring. Each on a cache line of
 * its own: every thread reads the tail all the time, and a lock taken or a sleeper counted on the
 * same line would invalidate it in every core at each decision.
 */
const LINE_WORDS = 16;
const TAIL = 0;
const LOCK = LINE_WORDS;
/** A word nobody changes: `Atomics.wait` on it is a short sleep. */
const IDLE = 2 * LINE_WORDS;
/** Threads asleep on the lock word: `unlock` wakes one only when there is one to wake. */
const WAITERS = 3 * LINE_WORDS;
const CONTROL_BYTES = 4 * LINE_WORDS * 4;
/** How long a reserved slot may stay unpublished before readers skip it. */
const STUCK_MS = 1000;
/** How long `exclusive` waits for the lock before taking it from a holder that must have died. */
const LOCK_STEAL_MS = 2000;
/**
 * How long a thread spins before it sleeps, on the lock or on an earlier record still being
 * copied: both are held for microseconds, and a sleep costs a futex wake-up (tens of µs) during
 * which this thread relays nothing.
 */
const SPIN_MS = 0.02;
/**
 * How often a participant with nothing to decide should still catch up (a timer), so the ring
 * never laps it and its reads stay fresh.
 */
export const JOURNAL_FOLLOW_MS = 20;
/** Default ring: 2^18 slots of 64 bytes (16 MiB), seconds of events at any rate a node sees. */
export const DEFAULT_JOURNAL_SLOTS = 1 << 18;

/** The shared memory of a node's journal; hand it to every thread (workerData). */
export function createJournalMemory(slots = DEFAULT_JOURNAL_SLOTS): SharedArrayBuffer {
  if (!Number.isInteger(Math.log2(slots))) throw new Error('journal slots must be a power of two');
  return new SharedArrayBuffer(CONTROL_BYTES + slots * SLOT_BYTES);
}

export interface SharedJournal extends Journal {
  /** Times this replica fell a ring behind and reset its counts. */
  readonly overruns: number;
}

/** Where the journal's next record will go: a position to `attachSharedJournal` from. */
export function journalTail(memory: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(memory, 0, 1), TAIL);
}

/**
 * One participant (`origin`: 0 the main thread, 1..N the workers) of the journal in `memory`,
 * reading from position `from`: the node's router threads all start from the position the
 * journal had before any of them could route, so none misses a decision another made while it
 * was still starting. (A thread that joins later, a replacement, starts at the tail: its counts
 * lack the requests already in flight, and converge as those end.)
 */
export function attachSharedJournal(
  memory: SharedArrayBuffer,
  origin: number,
  from = journalTail(memory),
): SharedJournal {
  const control = new Int32Array(memory, 0, CONTROL_BYTES / 4);
  const ringBytes = new Uint8Array(memory, CONTROL_BYTES);
  const ring32 = new Int32Array(memory, CONTROL_BYTES);
  const slots = ringBytes.length / SLOT_BYTES;
  const mask = slots - 1;
  const SLOT_WORDS = SLOT_BYTES / 4;
  const out = new RecordBuffer();
  const inbound = new RecordBuffer();
  const keys = new KeyTable();
  let replica: JournalReplica | undefined;
  let cursor = from;
  let stuckSince = 0;
  let skipping = false;
  let holding = false;
  let overruns = 0;

  const tagOf = (position: number) => (position + 1) | 0;

  /** Copies `count` slots from the ring at `position` into `buf` (the ring may wrap). */
  function copyOut(position: number, count: number, buf: RecordBuffer): void {
    buf.ensure(count * SLOT_BYTES);
    const first = position & mask;
    const head = Math.min(count, slots - first);
    buf.bytes.set(ringBytes.subarray(first * SLOT_BYTES, (first + head) * SLOT_BYTES), 0);
    if (head < count) buf.bytes.set(ringBytes.subarray(0, (count - head) * SLOT_BYTES), head * SLOT_BYTES);
  }

  function copyIn(position: number, count: number): void {
    const first = position & mask;
    const head = Math.min(count, slots - first);
    ringBytes.set(out.bytes.subarray(0, head * SLOT_BYTES), first * SLOT_BYTES);
    if (head < count) ringBytes.set(out.bytes.subarray(head * SLOT_BYTES, count * SLOT_BYTES), 0);
    Atomics.store(ring32, first * SLOT_WORDS, tagOf(position));
  }

  /**
   * Reads and applies the record at the cursor, if it is published. Returns false when there is
   * nothing (more) to read now.
   */
  function step(): boolean {
    const tail = Atomics.load(control, TAIL);
    const lag = (tail - cursor) | 0;
    if (lag === 0) return false;
    if (lag > slots || lag < 0) return overrun();
    const word = (cursor & mask) * SLOT_WORDS;
    if (Atomics.load(ring32, word) !== tagOf(cursor)) {
      if (skipping) {
        cursor = (cursor + 1) | 0;
        return true;
      }
      const now = performance.now();
      if (stuckSince === 0) stuckSince = now;
      else if (now - stuckSince > STUCK_MS) skipping = true;
      return false;
    }
    stuckSince = 0;
    skipping = false;
    const count = ring32[word + 1]!;
    copyOut(cursor, count, inbound);
    // A writer that lapped us while we copied has changed the tag: what we copied is not this record.
    if (Atomics.load(ring32, word) !== tagOf(cursor)) return overrun();
    cursor = (cursor + count) | 0;
    replica?.apply(decodeEvent(inbound, keys));
    return true;
  }

  /** Written over before we read it: our counts missed events, so forget them and go on from the tail. */
  function overrun(): false {
    overruns++;
    cursor = Atomics.load(control, TAIL);
    replica?.reset();
    return false;
  }

  function catchUp(): void {
    while (step());
  }

  function lock(): void {
    if (Atomics.compareExchange(control, LOCK, 0, 1) === 0) return;
    const started = performance.now();
    for (;;) {
      const now = performance.now();
      if (now - started < SPIN_MS) {
        if (Atomics.load(control, LOCK) === 0 && Atomics.compareExchange(control, LOCK, 0, 1) === 0) return;
        continue;
      }
      Atomics.add(control, WAITERS, 1);
      Atomics.wait(control, LOCK, 1, 1);
      Atomics.sub(control, WAITERS, 1);
      if (Atomics.compareExchange(control, LOCK, 0, 1) === 0) return;
      if (now - started > LOCK_STEAL_MS) {
        // The holder cannot be alive and still inside a decision: take the lock over.
        Atomics.store(control, LOCK, 1);
        return;
      }
    }
  }

  function unlock(): void {
    Atomics.store(control, LOCK, 0);
    if (Atomics.load(control, WAITERS) > 0) Atomics.notify(control, LOCK, 1);
  }

  return {
    origin,
    get overruns() {
      return overruns;
    },
    attach(r) {
      replica = r;
    },
    append(event) {
      const count = encodeEvent(event, out);
      if (count > slots / 4) throw new Error(`a journal record of ${count} slots does not fit the ring`);
      const position = Atomics.add(control, TAIL, count);
      copyIn(position, count);
      // Everything before our record first (waiting for writers still copying), then ours, as is.
      let waitingSince = 0;
      while (cursor !== position) {
        if (step()) continue;
        if (((position - cursor) | 0) < 0) break; // reset past our own record: nothing to wait for
        const now = performance.now();
        if (waitingSince === 0) waitingSince = now;
        else if (now - waitingSince > SPIN_MS) Atomics.wait(control, IDLE, 0, 0.05);
      }
      if (cursor === position) {
        cursor = (position + count) | 0;
        replica?.apply(event);
      }
    },
    catchUp,
    exclusive(fn) {
      if (holding) return fn();
      // Most of the catching up outside the lock, so the lock is held for the decision only.
      catchUp();
      lock();
      holding = true;
      try {
        catchUp();
        return fn();
      } finally {
        holding = false;
        unlock();
      }
    },
  };
}
