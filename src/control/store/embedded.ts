/**
 * The embedded control store: one SQLite file on local disk (`node:sqlite`), owned by one process.
 * It keeps etcd's model (store-wide revision, per-key create/mod revision and version, leases, a
 * history that watches resume from) so the layers above cannot tell it from etcd, except that it
 * has no replicas: it is the single-node default.
 *
 * Durability: every write is one `BEGIN IMMEDIATE … COMMIT`, and the promise resolves only after
 * the commit returned, which under WAL + `synchronous = FULL` is after the fsync. `kill -9` at any
 * moment loses no acknowledged write and never shows half a transaction.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { MeshError } from '../../core/errors.ts';
import { openDatabase } from './embedded-schema.ts';
import { createEmbeddedSql, type HistoryRow, type KvRow } from './embedded-sql.ts';
import { checkKey, checkOps, checkValue, prefixEnd } from './keys.ts';
import { createWatchHub, type RevisionBatch } from './watch-hub.ts';
import type { ControlStore, StoreCompare, StoreEntry, StoreEvent, StoreLease, StoreOp } from './types.ts';

export interface EmbeddedStoreOptions {
  /** The SQLite file (parent directories are created), or ':memory:' for tests of logic. */
  path: string;
  /**
   * Wall-clock milliseconds since the epoch (default `Date.now`). Lease expiry is written to the
   * file and read back by the next process, so this must mean the same across restarts: it is not
   * the monotonic `Clock` of src/core/clock.ts.
   */
  clock?: { now(): number };
  /** Revisions of history kept for watches to resume from (default 10,000). */
  historyRevisions?: number;
  /** How long to wait for the file's lock when another process holds it (default 1000 ms). */
  busyTimeoutMs?: number;
}

// Files open in this process: a second store on the same file would fight the first over the
// revision counter and miss its watches, so it is refused.
const openFiles = new Set<string>();

/** Opens the embedded store. Throws `invalid_config` if the file is already open in this process. */
export function createEmbeddedStore(opts: EmbeddedStoreOptions): ControlStore {
  const clock = opts.clock ?? { now: () => Date.now() };
  const historyRevisions = Math.max(1, opts.historyRevisions ?? 10_000);
  const file = canonicalPath(opts.path);
  if (file !== undefined && openFiles.has(file)) {
    throw new MeshError('invalid_config', `control store file ${file} is already open in this process`);
  }
  let db: DatabaseSync;
  try {
    db = openDatabase(file ?? ':memory:', opts.busyTimeoutMs ?? 1000);
  } catch (err) {
    throw new MeshError(
      'unavailable',
      `cannot open control store ${opts.path}: ${messageOf(err)}`,
      {},
      { cause: err },
    );
  }
  if (file !== undefined) openFiles.add(file);
  const sql = createEmbeddedSql(db);
  let revision = sql.getMeta('revision');
  let compacted = sql.getMeta('compacted');
  let closed = false;
  const keepalives = new Map<string, NodeJS.Timeout>();
  const orphanTimers = new Set<NodeJS.Timeout>();

  const hub = createWatchHub({
    currentRevision: () => revision,
    compactedRevision: () => compacted,
    readHistory: (start, end, from, to) => toBatches(sql.history(start, end, from, to)),
  });

  const ensureOpen = () => {
    if (closed) throw new MeshError('unavailable', 'control store is closed');
  };

  /** Runs `body` in one immediate transaction; its events get the next revision. */
  const write = <T>(body: (rev: number, events: StoreEvent[]) => T): { result: T; revision: number } => {
    ensureOpen();
    const events: StoreEvent[] = [];
    const rev = revision + 1;
    let result: T;
    try {
      db.exec('BEGIN IMMEDIATE');
      try {
        result = body(rev, events);
        if (events.length > 0) {
          events.forEach((e, seq) => sql.insertHistory(rev, seq, e));
          sql.setMeta('revision', rev);
          if (rev - historyRevisions > compacted) {
            sql.pruneHistory(rev - historyRevisions);
            sql.setMeta('compacted', rev - historyRevisions);
          }
        }
        db.exec('COMMIT');
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      if (err instanceof MeshError) throw err;
      throw new MeshError('unavailable', `control store write failed: ${messageOf(err)}`, {}, { cause: err });
    }
    // Acknowledged only now, after the fsync of COMMIT.
    if (events.length === 0) return { result, revision };
    revision = rev;
    compacted = Math.max(compacted, rev - historyRevisions);
    hub.publish({ revision: rev, events });
    return { result, revision: rev };
  };

  const putKey = (rev: number, events: StoreEvent[], key: string, value: string, lease?: string) => {
    if (lease !== undefined && !sql.leaseExists(lease)) {
      throw new MeshError('not_found', `lease ${lease} not found`, { lease });
    }
    const old = sql.getKv(key);
    const entry: StoreEntry = {
      key,
      value,
      createRevision: old ? old.create_rev : rev,
      modRevision: rev,
      version: old ? old.version + 1 : 1,
      ...(lease !== undefined && { lease }),
    };
    sql.upsertKv(entry);
    events.push({ type: 'put', entry });
  };

  const deleteKeys = (rev: number, events: StoreEvent[], keys: string[]) => {
    for (const key of keys) {
      sql.deleteKv(key);
      events.push({
        type: 'delete',
        entry: { key, value: '', createRevision: 0, modRevision: rev, version: 0 },
      });
    }
  };

  const applyOp = (rev: number, events: StoreEvent[], op: StoreOp) => {
    if ('put' in op) putKey(rev, events, op.put, op.value, op.lease);
    else if ('delete' in op) deleteKeys(rev, events, sql.getKv(op.delete) ? [op.delete] : []);
    else deleteKeys(rev, events, sql.rangeKeys(op.deletePrefix, prefixEnd(op.deletePrefix)));
  };

  const holds = (c: StoreCompare): boolean => {
    checkKey(c.key);
    const row = sql.getKv(c.key);
    return 'modRevision' in c ? (row?.mod_rev ?? 0) === c.modRevision : (row !== undefined) === c.exists;
  };

  const revokeLease = (id: string) =>
    write((rev, events) => {
      deleteKeys(rev, events, sql.keysOfLease(id));
      sql.deleteLease(id);
    });

  // Leases left by the previous process: nobody can keep them alive any more, so each ends when
  // the expiry that process last wrote passes (at once if it already has), deleting its keys.
  for (const lease of sql.allLeases()) {
    const delay = lease.expires_at - clock.now();
    if (delay <= 0) {
      revokeLease(lease.id);
      continue;
    }
    const timer = setTimeout(() => {
      orphanTimers.delete(timer);
      if (!closed) trySync(() => revokeLease(lease.id));
    }, delay);
    timer.unref();
    orphanTimers.add(timer);
  }

  return {
    kind: 'embedded',
    async get(key) {
      ensureOpen();
      checkKey(key);
      const row = sql.getKv(key);
      return row && toEntry(row);
    },
    async list(prefix) {
      ensureOpen();
      return { entries: sql.range(prefix, prefixEnd(prefix)).map(toEntry), revision };
    },
    async txn(compares, ops) {
      checkOps(ops);
      const { result, revision: rev } = write((rev, events) => {
        if (!compares.every(holds)) return false;
        for (const op of ops) applyOp(rev, events, op);
        return true;
      });
      return { succeeded: result, revision: rev };
    },
    async put(key, value, putOpts) {
      checkKey(key);
      checkValue(key, value);
      return write((rev, events) => putKey(rev, events, key, value, putOpts?.lease)).revision;
    },
    async delete(key) {
      checkKey(key);
      return write((rev, events) => {
        const existed = sql.getKv(key) !== undefined;
        if (existed) deleteKeys(rev, events, [key]);
        return existed;
      }).result;
    },
    watch(prefix, watchOpts) {
      ensureOpen();
      if (watchOpts.fromRevision !== undefined && !(watchOpts.fromRevision >= 1)) {
        throw new MeshError(
          'invalid_request',
          `fromRevision must be at least 1 (got ${watchOpts.fromRevision})`,
        );
      }
      return hub.watch(prefix, watchOpts);
    },
    async grantLease(ttlSeconds) {
      ensureOpen();
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
        throw new MeshError(
          'invalid_request',
          `lease TTL must be a whole number of seconds ≥ 1 (got ${ttlSeconds})`,
        );
      }
      const id = String(randomInt(1, 2 ** 48));
      const ttlMs = ttlSeconds * 1000;
      write(() => sql.putLease(id, ttlMs, clock.now() + ttlMs));
      // Kept alive while this process runs: the expiry on disk only matters to the next process.
      const timer = setInterval(() => {
        if (!closed) trySync(() => sql.touchLease(id, clock.now() + ttlMs));
      }, ttlMs / 3);
      timer.unref();
      keepalives.set(id, timer);
      const lease: StoreLease = {
        id,
        async revoke() {
          clearInterval(keepalives.get(id));
          keepalives.delete(id);
          revokeLease(id);
        },
      };
      return lease;
    },
    health() {
      return closed ? { writable: false, revision, reason: 'store closed' } : { writable: true, revision };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of keepalives.values()) clearInterval(timer);
      for (const timer of orphanTimers) clearTimeout(timer);
      hub.closeAll(new MeshError('unavailable', 'control store closed'));
      db.close();
      if (file !== undefined) openFiles.delete(file);
    },
  };
}

/** The file's absolute path with its directory resolved through symlinks; undefined for ':memory:'. */
function canonicalPath(path: string): string | undefined {
  if (path === ':memory:') return undefined;
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  return join(realpathSync(dirname(abs)), basename(abs));
}

function toEntry(row: KvRow): StoreEntry {
  return {
    key: row.key,
    value: row.value,
    createRevision: row.create_rev,
    modRevision: row.mod_rev,
    version: row.version,
    ...(row.lease !== null && { lease: row.lease }),
  };
}

function toBatches(rows: HistoryRow[]): RevisionBatch[] {
  const batches: RevisionBatch[] = [];
  for (const row of rows) {
    let last = batches.at(-1);
    if (last?.revision !== row.rev) batches.push((last = { revision: row.rev, events: [] }));
    const entry: StoreEntry = {
      key: row.key,
      value: row.value,
      createRevision: row.create_rev,
      modRevision: row.rev,
      version: row.version,
      ...(row.lease !== null && { lease: row.lease }),
    };
    last.events.push({ type: row.type === 'put' ? 'put' : 'delete', entry });
  }
  return batches;
}

function trySync(fn: () => void): void {
  try {
    fn();
  } catch {
    // A failed background write (keepalive, expiry) is retried by the next tick or the next process.
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
