/**
 * The control store on a real etcd cluster (the `etcd3` client; etcd is the consensus engine).
 * Keys of the interface are relative: the store puts them under `prefix`. Revisions, create/mod
 * revisions, versions and lease ids are etcd's own, passed through.
 *
 * Without quorum, calls fail fast with `unavailable` ("no quorum: …"): a background probe keeps
 * `health()` fresh (etcd-health.ts) and every call is refused at once while it says not writable;
 * a call already under way is bounded by `requestTimeoutMs`. What etcd did not commit is not
 * visible, and a transaction is all or nothing, so nothing is ever half-written.
 */
import { Etcd3, isRecoverableError, type IKeyValue, type IRequestOp, type Lease } from 'etcd3';
import { ExponentialBackoff, handleWhen, noop, retry } from 'cockatiel';
import type { Logger } from 'pino';
import { MeshError } from '../../core/errors.ts';
import { createHealthProbe } from './etcd-health.ts';
import { startEtcdWatch } from './etcd-watch.ts';
import { checkKey, checkOps, checkValue } from './keys.ts';
import type { ControlStore, StoreCompare, StoreEntry, StoreLease, StoreOp } from './types.ts';

export interface EtcdStoreOptions {
  /** Client URLs of the members, e.g. `http://10.0.0.1:2379`. */
  endpoints: string[];
  /** Where the mesh's keys live in etcd (default `/infermesh/`). */
  prefix?: string;
  /** Connection timeout (default 5000 ms). */
  dialTimeoutMs?: number;
  /** Deadline of every call (default 3000 ms). */
  requestTimeoutMs?: number;
  /** How often health is probed (default 1000 ms; twice as often while not writable). */
  healthIntervalMs?: number;
  logger?: Logger;
}

/**
 * Connects to etcd and waits for the first health probe (so `health()` is meaningful at once). It
 * does not fail when etcd is unreachable: the store then answers `unavailable` until it comes back.
 */
export async function createEtcdStore(opts: EtcdStoreOptions): Promise<ControlStore> {
  if (opts.endpoints.length === 0)
    throw new MeshError('invalid_config', 'etcd store needs at least one endpoint');
  const prefix = opts.prefix ?? '/infermesh/';
  const requestTimeoutMs = opts.requestTimeoutMs ?? 3000;
  const client = new Etcd3({
    hosts: opts.endpoints,
    dialTimeout: opts.dialTimeoutMs ?? 5000,
    // Streams (watch, lease keepalive) live on; every unary call gets the deadline.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
    faultHandling: {
      // No circuit breaker (it would refuse a member for 5 s after it came back); a refused
      // connection is retried once on each other member, all within the caller's deadline.
      host: () => noop,
      global: retry(handleWhen(isRecoverableError), { maxAttempts: opts.endpoints.length - 1 }),
      // Watch streams come back within 2 s of a member returning (etcd3's default waits up to 30 s).
      // etcd3 types this as a backoff (it calls next() for the first delay), cockatiel 3 gives a factory.
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }).next(),
    },
  });
  const full = (key: string) => Buffer.from(prefix + key);
  const probe = createHealthProbe({
    endpoints: opts.endpoints,
    probeKey: full(''),
    intervalMs: opts.healthIntervalMs ?? 1000,
    timeoutMs: Math.min(1000, requestTimeoutMs),
    onChange: (h) =>
      h.writable
        ? opts.logger?.info('etcd writable again')
        : opts.logger?.warn({ reason: h.reason }, 'etcd not writable'),
  });
  await probe.check();
  const watches = new Set<{ fail(err: Error): void }>();
  const leases = new Set<Lease>();
  let closed = false;

  const toEntry = (kv: IKeyValue): StoreEntry => ({
    key: kv.key.toString().slice(prefix.length),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    ...(kv.lease !== '0' && kv.lease !== '' && { lease: kv.lease }),
  });

  /** Runs `call` if etcd is healthy, within the deadline, with etcd's errors as MeshErrors. */
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new MeshError('unavailable', 'control store is closed');
    const health = probe.health();
    if (!health.writable) throw new MeshError('unavailable', health.reason ?? 'no quorum', { store: 'etcd' });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      // The gRPC deadline covers one attempt; this covers the retries too.
      timer = setTimeout(
        () =>
          reject(
            new MeshError('unavailable', `no quorum: etcd ${what} timed out after ${requestTimeoutMs} ms`),
          ),
        requestTimeoutMs + 100,
      );
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      throw toMeshError(what, err);
    } finally {
      clearTimeout(timer);
    }
  };

  const isCompacted = async (revision: number) => {
    try {
      await client.kv.range({ key: full(''), limit: 1, keys_only: true, revision });
      return false;
    } catch (err) {
      return err instanceof Error && /compacted/i.test(err.message);
    }
  };

  const compare = (c: StoreCompare) => {
    checkKey(c.key);
    const key = full(c.key);
    if ('modRevision' in c)
      return { key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: c.modRevision };
    // etcd has no "exists": a key exists when its create revision is above 0.
    return {
      key,
      target: 'Create' as const,
      result: c.exists ? ('Greater' as const) : ('Equal' as const),
      create_revision: 0,
    };
  };
  const request = (op: StoreOp): IRequestOp => {
    if ('put' in op)
      return { request_put: { key: full(op.put), value: Buffer.from(op.value), lease: op.lease ?? 0 } };
    if ('delete' in op) return { request_delete_range: { key: full(op.delete) } };
    const start = full(op.deletePrefix);
    return { request_delete_range: { key: start, range_end: rangeEnd(start) } };
  };
  const seen = <T extends { header: { revision: string } }>(res: T): T => {
    probe.saw(Number(res.header.revision));
    return res;
  };

  return {
    kind: 'etcd',
    async get(key) {
      checkKey(key);
      const res = seen(await call('get', () => client.kv.range({ key: full(key) })));
      const kv = res.kvs[0];
      return kv && toEntry(kv);
    },
    async list(listPrefix) {
      const start = full(listPrefix);
      const res = seen(await call('list', () => client.kv.range({ key: start, range_end: rangeEnd(start) })));
      return { entries: res.kvs.map(toEntry), revision: Number(res.header.revision) };
    },
    async txn(compares, ops) {
      checkOps(ops);
      const req = { compare: compares.map(compare), success: ops.map(request) };
      const res = seen(await call('txn', () => client.kv.txn(req)));
      return { succeeded: res.succeeded, revision: Number(res.header.revision) };
    },
    async put(key, value, putOpts) {
      checkKey(key);
      checkValue(key, value);
      const req = { key: full(key), value: Buffer.from(value), lease: putOpts?.lease ?? 0 };
      return Number(seen(await call('put', () => client.kv.put(req))).header.revision);
    },
    async delete(key) {
      checkKey(key);
      const res = seen(await call('delete', () => client.kv.deleteRange({ key: full(key) })));
      return Number(res.deleted) > 0;
    },
    watch(watchPrefix, watchOpts) {
      if (closed) throw new MeshError('unavailable', 'control store is closed');
      if (watchOpts.fromRevision !== undefined && !(watchOpts.fromRevision >= 1)) {
        throw new MeshError(
          'invalid_request',
          `fromRevision must be at least 1 (got ${watchOpts.fromRevision})`,
        );
      }
      const start = full(watchPrefix);
      // "From the next write" means after every revision this process has seen, so that a write it
      // makes right after watch() is seen even though etcd attaches the watch a round trip later.
      const known = probe.health().revision;
      const fromRevision = watchOpts.fromRevision ?? (known > 0 ? known + 1 : undefined);
      const w = startEtcdWatch(
        { client, range: { start, end: rangeEnd(start) }, toEntry, saw: (r) => probe.saw(r), isCompacted },
        { ...watchOpts, fromRevision },
      );
      watches.add(w);
      return {
        close() {
          watches.delete(w);
          w.close();
        },
      };
    },
    async grantLease(ttlSeconds) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
        throw new MeshError(
          'invalid_request',
          `lease TTL must be a whole number of seconds ≥ 1 (got ${ttlSeconds})`,
        );
      }
      const lease = client.lease(ttlSeconds);
      lease.on('lost', (err: Error) => opts.logger?.warn({ err: err.message }, 'etcd lease lost'));
      let id: string;
      try {
        id = await call('lease grant', () => lease.grant());
      } catch (err) {
        lease.release();
        throw err;
      }
      leases.add(lease);
      const handle: StoreLease = {
        id,
        async revoke() {
          leases.delete(lease);
          await call('lease revoke', () => lease.revoke());
        },
      };
      return handle;
    },
    health: () => (closed ? { ...probe.health(), writable: false, reason: 'store closed' } : probe.health()),
    async close() {
      if (closed) return;
      closed = true;
      const err = new MeshError('unavailable', 'control store closed');
      for (const w of watches) w.fail(err);
      watches.clear();
      // Released, not revoked: the leases expire after their TTL, as the interface promises.
      for (const lease of leases) lease.release();
      probe.close();
      client.close();
    },
  };
}

/** The end of the range of keys that start with `start`: its last byte below 0xff, plus one. */
function rangeEnd(start: Buffer): Buffer {
  const end = Buffer.from(start);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff: etcd reads "\0" as "to the end of the keyspace".
  return Buffer.from([0]);
}

/** etcd's and gRPC's errors, as the stable codes of the interface. */
function toMeshError(what: string, err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (
    /lease not found|requested lease/i.test(message) ||
    err?.constructor?.name === 'EtcdLeaseInvalidError'
  ) {
    return new MeshError('not_found', `etcd ${what}: lease not found`, {}, { cause: err });
  }
  if (/invalid.?argument|duplicate key|too many operations|request is too large/i.test(message)) {
    return new MeshError('invalid_request', `etcd ${what}: ${message}`, {}, { cause: err });
  }
  if (
    /no leader|timed out|deadline|leader changed|unavailable|not capable|ECONNREFUSED|closed/i.test(message)
  ) {
    return new MeshError('unavailable', `no quorum: etcd ${what} failed: ${message}`, {}, { cause: err });
  }
  return new MeshError('unavailable', `etcd ${what} failed: ${message}`, {}, { cause: err });
}
