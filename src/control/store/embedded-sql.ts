/**
 * The embedded store's statements, prepared once. Key ranges are `key >= start AND key < end`
 * (SQLite's BINARY collation compares UTF-8 bytes, which is code point order, the order
 * `prefixEnd` computes in), so a prefix scan uses the primary key's index.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { StoreEntry, StoreEvent } from './types.ts';

/** A row of `kv`. */
export interface KvRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
  version: number;
  lease: string | null;
}

/** A row of `history`: one event of one revision. */
export interface HistoryRow {
  rev: number;
  seq: number;
  key: string;
  type: string;
  value: string;
  create_rev: number;
  version: number;
  lease: string | null;
}

/** A row of `leases`. */
export interface LeaseRow {
  id: string;
  ttl_ms: number;
  expires_at: number;
}

/** Prepares the statements the store runs on `db`. */
export function createEmbeddedSql(db: DatabaseSync) {
  const getMeta = db.prepare('SELECT value FROM meta WHERE name = ?');
  const setMeta = db.prepare('UPDATE meta SET value = ? WHERE name = ?');
  const getKv = db.prepare('SELECT * FROM kv WHERE key = ?');
  const upsertKv = db.prepare(
    `INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev,
       version = excluded.version, lease = excluded.lease`,
  );
  const deleteKv = db.prepare('DELETE FROM kv WHERE key = ?');
  const rangeOpen = db.prepare('SELECT * FROM kv WHERE key >= ? ORDER BY key');
  const rangeClosed = db.prepare('SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key');
  const keysOfLease = db.prepare('SELECT key FROM kv WHERE lease = ? ORDER BY key');
  const insertHistory = db.prepare(
    `INSERT INTO history (rev, seq, key, type, value, create_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const pruneHistory = db.prepare('DELETE FROM history WHERE rev <= ?');
  const historyOpen = db.prepare(
    'SELECT * FROM history WHERE rev >= ? AND rev <= ? AND key >= ? ORDER BY rev, seq',
  );
  const historyClosed = db.prepare(
    'SELECT * FROM history WHERE rev >= ? AND rev <= ? AND key >= ? AND key < ? ORDER BY rev, seq',
  );
  const putLease = db.prepare('INSERT INTO leases (id, ttl_ms, expires_at) VALUES (?, ?, ?)');
  const touchLease = db.prepare('UPDATE leases SET expires_at = ? WHERE id = ?');
  const getLease = db.prepare('SELECT id FROM leases WHERE id = ?');
  const deleteLease = db.prepare('DELETE FROM leases WHERE id = ?');
  const allLeases = db.prepare('SELECT * FROM leases ORDER BY expires_at');

  const range = (start: string, end: string | undefined, ...rest: SQLInputValue[]) =>
    end === undefined ? [...rest, start] : [...rest, start, end];

  const kvRange = (start: string, end: string | undefined) =>
    (end === undefined ? rangeOpen.all(start) : rangeClosed.all(start, end)) as unknown as KvRow[];

  return {
    getMeta: (name: string) => (getMeta.get(name) as { value: number }).value,
    setMeta: (name: string, value: number) => void setMeta.run(value, name),
    getKv: (key: string) => getKv.get(key) as KvRow | undefined,
    upsertKv: (e: StoreEntry) =>
      void upsertKv.run(e.key, e.value, e.createRevision, e.modRevision, e.version, e.lease ?? null),
    deleteKv: (key: string) => void deleteKv.run(key),
    range: kvRange,
    rangeKeys: (start: string, end: string | undefined) => kvRange(start, end).map((r) => r.key),
    keysOfLease: (id: string) => (keysOfLease.all(id) as { key: string }[]).map((r) => r.key),
    insertHistory: (rev: number, seq: number, ev: StoreEvent) =>
      void insertHistory.run(
        rev,
        seq,
        ev.entry.key,
        ev.type,
        ev.entry.value,
        ev.entry.createRevision,
        ev.entry.version,
        ev.entry.lease ?? null,
      ),
    pruneHistory: (upTo: number) => void pruneHistory.run(upTo),
    history: (start: string, end: string | undefined, from: number, to: number) =>
      (end === undefined
        ? historyOpen.all(...range(start, end, from, to))
        : historyClosed.all(...range(start, end, from, to))) as unknown as HistoryRow[],
    putLease: (id: string, ttlMs: number, expiresAt: number) => void putLease.run(id, ttlMs, expiresAt),
    touchLease: (id: string, expiresAt: number) => void touchLease.run(expiresAt, id),
    leaseExists: (id: string) => getLease.get(id) !== undefined,
    deleteLease: (id: string) => void deleteLease.run(id),
    allLeases: () => allLeases.all() as unknown as LeaseRow[],
  };
}
