/**
 * The control plane's one store interface: keys with revisions, compare-and-swap transactions,
 * prefix watches that resume from a revision, and leases. Two implementations sit behind it: the
 * embedded store (`embedded.ts`: `node:sqlite` on local disk, the default for one node) and etcd
 * (`etcd.ts`: the `etcd3` client against a real etcd cluster, which is the consensus engine; there
 * is no Raft of our own). The model is etcd's: one store-wide revision, bumped by every write
 * transaction; each key remembers the revision that created it and the one that last changed it.
 *
 * Values are JSON texts: the control plane's records are small documents, and JSON keeps a value
 * readable with `etcdctl get` or `sqlite3`.
 *
 * Errors are MeshErrors: `unavailable` when the store cannot answer or cannot commit (etcd without
 * quorum: "no quorum"), `conflict` never (a failed compare is `succeeded: false`, not an error),
 * `invalid_request` for a malformed key or value.
 */

/** One key as stored. */
export interface StoreEntry {
  key: string;
  /** The value's JSON text. */
  value: string;
  /** Revision of the write that created the key (since its last deletion). */
  createRevision: number;
  /** Revision of the write that last changed it. */
  modRevision: number;
  /** Writes since creation, 1 for a new key (etcd's `version`). */
  version: number;
  /** The lease the key is attached to, if any: it goes when the lease ends. */
  lease?: string;
}

/** A condition of a transaction; all must hold for its writes to apply. */
export type StoreCompare =
  /** The key's modRevision equals `modRevision` (0: the key does not exist). */
  | { key: string; modRevision: number }
  /** The key exists (`exists: true`) or does not. */
  | { key: string; exists: boolean };

/** One write of a transaction. */
export type StoreOp =
  | { put: string; value: string; lease?: string }
  | { delete: string }
  /** Every key under the prefix. */
  | { deletePrefix: string };

export interface StoreTxnResult {
  /** Whether every compare held (and so every op applied). */
  succeeded: boolean;
  /** The store's revision after the transaction (unchanged when it did not apply). */
  revision: number;
}

/** A change seen by a watch. */
export interface StoreEvent {
  type: 'put' | 'delete';
  /** The key after the change (`value` empty for a delete); `modRevision` is the change's revision. */
  entry: StoreEntry;
}

export interface StoreWatchOptions {
  /**
   * Deliver changes from this revision on (inclusive); absent, from the next write. A revision the
   * store has already compacted away fails the watch with `onError` (code `not_found`): read the
   * current state with `list` and watch again from its revision + 1.
   */
  fromRevision?: number;
  /** Changes, in revision order, a batch per transaction (or per catch-up page). */
  onEvents(events: StoreEvent[]): void;
  /**
   * The watch failed for good (compacted revision, store closed). Transient losses (etcd without
   * quorum, a broken connection) are not reported here: the watch resumes where it was by itself.
   */
  onError?(err: Error): void;
}

export interface StoreWatch {
  close(): void;
}

export interface StoreLease {
  id: string;
  /** Ends the lease now: its keys are deleted. */
  revoke(): Promise<void>;
}

export interface StoreHealth {
  /** Whether the store accepts writes now (etcd: a leader with quorum). */
  writable: boolean;
  /** The last revision this process has seen (read or written). */
  revision: number;
  /** Why it is not writable, for /readyz and logs. */
  reason?: string;
}

export interface ControlStore {
  readonly kind: 'embedded' | 'etcd';
  get(key: string): Promise<StoreEntry | undefined>;
  /** Every key under `prefix`, sorted by key, and the revision the list was read at. */
  list(prefix: string): Promise<{ entries: StoreEntry[]; revision: number }>;
  /** Applies `ops` atomically when every compare holds; nothing is half-applied. */
  txn(compares: readonly StoreCompare[], ops: readonly StoreOp[]): Promise<StoreTxnResult>;
  /** Unconditional put; resolves with the write's revision. */
  put(key: string, value: string, opts?: { lease?: string }): Promise<number>;
  /** Unconditional delete; resolves with whether the key existed. */
  delete(key: string): Promise<boolean>;
  watch(prefix: string, opts: StoreWatchOptions): StoreWatch;
  /** A lease kept alive by this process until revoked or the store is closed (then it expires after `ttlSeconds`). */
  grantLease(ttlSeconds: number): Promise<StoreLease>;
  /** Cheap, no I/O: what the store last knew. */
  health(): StoreHealth;
  close(): Promise<void>;
}
