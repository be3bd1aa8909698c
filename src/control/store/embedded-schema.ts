/**
 * The embedded store's SQLite file: pragmas that make a commit durable before it is acknowledged,
 * and the four tables (meta, kv, history, leases).
 */
import { DatabaseSync } from 'node:sqlite';

/** Schema version kept in `meta`; a file from a newer version is refused rather than misread. */
export const SCHEMA_VERSION = 1;

/**
 * Opens (creating if needed) the database at `path` and prepares it.
 *
 * - WAL with `synchronous = FULL`: every COMMIT fsyncs the WAL before returning, so a write that
 *   resolved survives `kill -9` and power loss alike (NORMAL would only survive a process crash).
 * - `locking_mode = EXCLUSIVE`: the first transaction takes the file's lock and keeps it, so a second
 *   process cannot write behind this one's back (its open fails with SQLITE_BUSY after `timeout`).
 */
export function openDatabase(path: string, busyTimeoutMs: number): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec('BEGIN IMMEDIATE');
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        create_rev INTEGER NOT NULL,
        mod_rev INTEGER NOT NULL,
        version INTEGER NOT NULL,
        lease TEXT
      ) STRICT;
      CREATE INDEX IF NOT EXISTS kv_lease ON kv (lease) WHERE lease IS NOT NULL;
      CREATE TABLE IF NOT EXISTS history (
        rev INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        key TEXT NOT NULL,
        type TEXT NOT NULL,
        value TEXT NOT NULL,
        create_rev INTEGER NOT NULL,
        version INTEGER NOT NULL,
        lease TEXT,
        PRIMARY KEY (rev, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS leases (
        id TEXT PRIMARY KEY,
        ttl_ms INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ${SCHEMA_VERSION}), ('revision', 0), ('compacted', 0);
    `);
    const schema = db.prepare(`SELECT value FROM meta WHERE name = 'schema'`).get() as { value: number };
    if (schema.value > SCHEMA_VERSION) {
      throw new Error(`file has schema ${schema.value}; this version reads up to ${SCHEMA_VERSION}`);
    }
    db.exec('COMMIT');
  } catch (err) {
    try {
      db.close();
    } catch {
      // already unusable: the original error says why
    }
    throw err;
  }
  return db;
}
