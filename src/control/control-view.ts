/**
 * Every node's mirror of the control records (policies, tenants, drains, API key hashes): listed once, then kept
 * current by a watch from the listed revision. Routing reads it on every request (no store round
 * trip), and it is what the node still knows when the store cannot answer (etcd without quorum):
 * routing goes on with the last known policies, and reads answer from it marked stale.
 */
import { MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';
import {
  APIKEYS_PREFIX,
  CONTROL_PREFIX,
  DRAINS_PREFIX,
  POLICIES_PREFIX,
  TENANTS_PREFIX,
} from './model/keys.ts';
import type { ApiKeyRecord, DrainRecord, PolicyRecord, TenantRecord } from './model/records.ts';
import type { ControlStore, StoreEntry, StoreEvent, StoreWatch } from './store/types.ts';

/** A record with the store revision of its last change. */
export type Revised<T> = T & { revision: number };

/** One consistent view of the control records (replaced, never changed, on every update). */
export interface ControlSnapshot {
  /** The store revision this snapshot reflects. */
  revision: number;
  policies: ReadonlyMap<string, Revised<PolicyRecord>>;
  tenants: ReadonlyMap<string, Revised<TenantRecord>>;
  drains: ReadonlyMap<string, Revised<DrainRecord>>;
  /** API keys by key id (salted hashes, never secrets). */
  apiKeys: ReadonlyMap<string, Revised<ApiKeyRecord>>;
}

export interface ControlView {
  snapshot(): ControlSnapshot;
  /** True when the mirror may lag the store: the store cannot commit, or the watch is not live. */
  stale(): boolean;
  /** Called after every change of the snapshot; returns the unsubscribe function. */
  onChange(listener: (snapshot: ControlSnapshot) => void): () => void;
  /**
   * Resolves once the snapshot reflects `revision` (a write of this node), or after `timeoutMs`:
   * a write answered by this node is then visible to the next read here (read your writes).
   */
  waitFor(revision: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

const EMPTY: ControlSnapshot = {
  revision: 0,
  policies: new Map(),
  tenants: new Map(),
  drains: new Map(),
  apiKeys: new Map(),
};

/** Lists and watches `control/`; resolves once the first list is in (fails when the store cannot answer it). */
export async function createControlView(
  store: ControlStore,
  opts: { logger?: Logger; relistDelayMs?: number } = {},
): Promise<ControlView> {
  let current = EMPTY;
  let watch: StoreWatch | undefined;
  let live = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const listeners = new Set<(s: ControlSnapshot) => void>();
  const publish = (next: ControlSnapshot) => {
    current = next;
    for (const l of listeners) l(next);
  };

  const resync = async (): Promise<void> => {
    const { entries, revision } = await store.list(CONTROL_PREFIX);
    const next = { revision, policies: new Map(), tenants: new Map(), drains: new Map(), apiKeys: new Map() };
    for (const e of entries) applyPut(next, e, opts.logger);
    publish(next);
    watch?.close();
    watch = store.watch(CONTROL_PREFIX, {
      fromRevision: revision + 1,
      onEvents: (events) => publish(applyEvents(current, events, opts.logger)),
      onError: (err) => {
        // A compacted revision or a lost watch: read everything again (bounded retry while the
        // store cannot answer; the old snapshot serves meanwhile, marked stale).
        live = false;
        opts.logger?.warn({ err }, 'control watch lost: listing again');
        scheduleResync();
      },
    });
    live = true;
  };
  const scheduleResync = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      resync().catch(() => scheduleResync());
    }, opts.relistDelayMs ?? 1000);
    retry.unref();
  };

  await resync();
  return {
    snapshot: () => current,
    stale: () => !live || !store.health().writable,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor(revision, timeoutMs = 2000) {
      if (current.revision >= revision) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const check = (s: ControlSnapshot) => s.revision >= revision && done();
        const timer = setTimeout(done, timeoutMs);
        listeners.add(check);
      });
    },
    close() {
      closed = true;
      clearTimeout(retry);
      watch?.close();
    },
  };
}

type Mutable = {
  revision: number;
  policies: Map<string, Revised<PolicyRecord>>;
  tenants: Map<string, Revised<TenantRecord>>;
  drains: Map<string, Revised<DrainRecord>>;
  apiKeys: Map<string, Revised<ApiKeyRecord>>;
};

/** The folder map a key belongs to and its id within it. */
function locate(s: Mutable, key: string): [Map<string, unknown>, string] | undefined {
  for (const [prefix, map] of [
    [POLICIES_PREFIX, s.policies],
    [TENANTS_PREFIX, s.tenants],
    [DRAINS_PREFIX, s.drains],
    [APIKEYS_PREFIX, s.apiKeys],
  ] as const)
    if (key.startsWith(prefix)) return [map, key.slice(prefix.length)];
  return undefined;
}

function applyPut(s: Mutable, e: StoreEntry, logger?: Logger): void {
  const at = locate(s, e.key);
  if (!at) return;
  try {
    at[0].set(at[1], { ...(JSON.parse(e.value) as object), revision: e.modRevision });
  } catch (err) {
    // Written by something else than this code (etcdctl by hand): skip it rather than stop routing.
    logger?.warn({ key: e.key, err: MeshError.from(err).message }, 'control record is not JSON: ignored');
  }
}

function applyEvents(prev: ControlSnapshot, events: readonly StoreEvent[], logger?: Logger): ControlSnapshot {
  const next: Mutable = {
    revision: prev.revision,
    policies: new Map(prev.policies),
    tenants: new Map(prev.tenants),
    drains: new Map(prev.drains),
    apiKeys: new Map(prev.apiKeys),
  };
  for (const ev of events) {
    if (ev.type === 'put') applyPut(next, ev.entry, logger);
    else {
      const at = locate(next, ev.entry.key);
      at?.[0].delete(at[1]);
    }
    next.revision = Math.max(next.revision, ev.entry.modRevision);
  }
  return next;
}
