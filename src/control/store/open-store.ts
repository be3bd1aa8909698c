/**
 * Opens the control store the configuration names: the embedded file store (the single-node
 * default) or etcd (when the operator gives endpoints). The config schema in src/core/config.ts
 * uses the option types exported here.
 */
import type { Logger } from 'pino';
import { createEmbeddedStore } from './embedded.ts';
import { createEtcdStore } from './etcd.ts';
import type { ControlStore } from './types.ts';

/** The embedded store's options as configured. */
export interface EmbeddedStoreConfig {
  /** The SQLite file, e.g. `/var/lib/infermesh/control.db`. */
  path: string;
  /** Revisions of history kept for watches (default 10,000). */
  historyRevisions?: number;
}

/** The etcd store's options as configured. */
export interface EtcdStoreConfig {
  endpoints: string[];
  /** Default `/infermesh/`. */
  prefix?: string;
  dialTimeoutMs?: number;
  /** Default 3000. */
  requestTimeoutMs?: number;
  /** Default 1000. */
  healthIntervalMs?: number;
}

/** Exactly one of the two. */
export type ControlStoreOptions = { embedded: EmbeddedStoreConfig } | { etcd: EtcdStoreConfig };

/** Opens the configured store. */
export async function openControlStore(config: ControlStoreOptions, logger?: Logger): Promise<ControlStore> {
  if ('etcd' in config) {
    const store = await createEtcdStore({ ...config.etcd, ...(logger && { logger }) });
    logger?.info({ endpoints: config.etcd.endpoints, health: store.health() }, 'control store: etcd');
    return store;
  }
  const store = createEmbeddedStore(config.embedded);
  logger?.info({ path: config.embedded.path, revision: store.health().revision }, 'control store: embedded');
  return store;
}
