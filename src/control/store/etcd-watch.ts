/**
 * A prefix watch on etcd that survives connection and quorum loss without losing or repeating an
 * event. etcd3's Watcher reconnects by itself, but resumes from the revision in the last response
 * header + 1, and etcd stamps catch-up pages with the store's current revision: a disconnect in the
 * middle of a catch-up would skip the rest of it. So this wrapper remembers the last revision it
 * delivered, rewrites the resume revision just before each re-attach ('connecting'), and drops any
 * event at or below it.
 */
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { MeshError } from '../../core/errors.ts';
import type { StoreEntry, StoreEvent, StoreWatch, StoreWatchOptions } from './types.ts';

/** What the store passes in: its client, key codec and a sink for seen revisions. */
export interface EtcdWatchContext {
  client: Etcd3;
  range: { start: Buffer; end: Buffer };
  toEntry(kv: IKeyValue): StoreEntry;
  saw(revision: number): void;
  /** Whether `revision` is below etcd's compaction point (false when that cannot be told). */
  isCompacted(revision: number): Promise<boolean>;
}

/** Starts the watch; `close()` cancels it. Closing the store calls `fail` with `unavailable`. */
export function startEtcdWatch(
  ctx: EtcdWatchContext,
  opts: StoreWatchOptions,
): StoreWatch & { fail(err: Error): void } {
  let last = opts.fromRevision === undefined ? undefined : opts.fromRevision - 1;
  let closed = false;
  const builder = ctx.client.watch().inRange(ctx.range);
  if (opts.fromRevision !== undefined) builder.startRevision(String(opts.fromRevision));
  const watcher: Watcher = builder.watcher();

  const stop = () => {
    if (closed) return;
    closed = true;
    // Cancelling needs the stream; when etcd is away it resolves once the watcher is dropped.
    watcher.cancel().catch(() => undefined);
  };
  const fail = (err: Error) => {
    if (closed) return;
    stop();
    opts.onError?.(err);
  };

  watcher.on('connecting', () => {
    if (last !== undefined) watcher.request.start_revision = String(last + 1);
  });
  watcher.on('connected', (res: IWatchResponse) => {
    const revision = Number(res.header.revision);
    ctx.saw(revision);
    // Without a start revision etcd watches from the next write: that is where "delivered" begins.
    last ??= revision;
  });
  watcher.on('data', (res: IWatchResponse) => {
    if (closed) return;
    ctx.saw(Number(res.header.revision));
    // Events of one revision come in one response: drop whole revisions already delivered.
    const floor = last ?? 0;
    let batch: StoreEvent[] = [];
    let batchRev = 0;
    const flush = () => {
      if (batch.length > 0) opts.onEvents(batch);
      batch = [];
    };
    for (const ev of res.events) {
      const rev = Number(ev.kv.mod_revision);
      if (rev <= floor) continue;
      if (rev !== batchRev) flush();
      batchRev = rev;
      const entry =
        ev.type === 'Put'
          ? ctx.toEntry(ev.kv)
          : { ...ctx.toEntry(ev.kv), value: '', createRevision: 0, modRevision: rev, version: 0 };
      batch.push({ type: ev.type === 'Put' ? 'put' : 'delete', entry });
      last = rev;
    }
    flush();
  });
  watcher.on('error', (err: Error) => void failFor(err));
  // etcd 3.4 cancels a watch on a compacted revision with an empty reason (the revision is in a
  // field etcd3 does not pass on): ask etcd whether that revision is still readable.
  const failFor = async (err: Error) => {
    const from = (last ?? 0) + 1;
    if (/compacted/i.test(err.message) || (await ctx.isCompacted(from))) {
      fail(
        new MeshError(
          'not_found',
          `revision ${from} has been compacted: list again and watch from its revision + 1`,
          { fromRevision: from },
          { cause: err },
        ),
      );
    } else {
      fail(new MeshError('unavailable', `etcd watch cancelled: ${err.message}`, {}, { cause: err }));
    }
  };

  return { close: stop, fail };
}
