/**
 * The server side of `StatePlane.WatchPrefixBlocks`: one `reset` update per endpoint (the
 * snapshot), `snapshot_done`, then every change. Pending changes are merged per endpoint (an add
 * and a later remove of one block cancel out; a reset sends the whole set as it is when sent), so
 * a slow client costs at most one queued update per endpoint and always ends up with the latest set.
 */
import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import {
  PrefixBlocksEventSchema,
  type PrefixBlocksEvent,
  type WatchPrefixBlocksRequest,
} from '../../gen/infermesh/state/v1/state_pb.js';
import type { PrefixBlockHub, PrefixBlocksUpdate } from './prefix-blocks.ts';

interface Pending {
  blockSize: number;
  reset: boolean;
  gone: boolean;
  rebuilding: boolean;
  added: Set<number>;
  removed: Set<number>;
}

const event = (u: PrefixBlocksUpdate): PrefixBlocksEvent =>
  create(PrefixBlocksEventSchema, {
    event: {
      case: 'update',
      value: {
        endpointId: u.endpointId,
        blockSize: u.blockSize,
        reset: u.reset,
        added: [...u.added],
        removed: [...u.removed],
        rebuilding: u.rebuilding,
        gone: u.gone ?? false,
      },
    },
  });

/** Streams `hub` to one client until it cancels or the server shuts down. */
export async function* watchPrefixBlocks(
  hub: PrefixBlockHub | undefined,
  req: WatchPrefixBlocksRequest,
  ctx: HandlerContext,
  nodeId = '',
): AsyncGenerator<PrefixBlocksEvent> {
  const wanted = (id: string) => id.startsWith(req.endpointPrefix);
  if (!hub) {
    yield create(PrefixBlocksEventSchema, { event: { case: 'snapshotDone', value: { count: 0, nodeId } } });
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    return;
  }
  const pending = new Map<string, Pending>();
  let wake: (() => void) | undefined;
  const onUpdate = (u: PrefixBlocksUpdate) => {
    if (!wanted(u.endpointId)) return;
    let p = pending.get(u.endpointId);
    if (!p || u.reset || u.gone || p.blockSize !== u.blockSize) {
      p = {
        blockSize: u.blockSize,
        reset: u.reset || (p !== undefined && (p.reset || p.blockSize !== u.blockSize)),
        gone: u.gone ?? false,
        rebuilding: u.rebuilding,
        added: new Set(),
        removed: new Set(),
      };
      pending.set(u.endpointId, p);
      if (p.reset || p.gone) return void wake?.(); // the set is read when sent
    }
    p.rebuilding = u.rebuilding;
    for (const k of u.removed) if (!p.added.delete(k)) p.removed.add(k);
    for (const k of u.added) if (!p.removed.delete(k)) p.added.add(k);
    wake?.();
  };
  const unsubscribe = hub.watch(onUpdate);
  const onAbort = () => wake?.();
  ctx.signal.addEventListener('abort', onAbort);
  try {
    const snapshot = hub.snapshot().filter((u) => wanted(u.endpointId));
    for (const u of snapshot) {
      if (ctx.signal.aborted) return;
      yield event(u);
    }
    yield create(PrefixBlocksEventSchema, {
      event: { case: 'snapshotDone', value: { count: snapshot.length, nodeId } },
    });
    while (!ctx.signal.aborted) {
      if (pending.size === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const [id, p] = pending.entries().next().value as [string, Pending];
      pending.delete(id);
      if (p.gone) {
        yield event({
          endpointId: id,
          blockSize: p.blockSize,
          reset: true,
          added: [],
          removed: [],
          rebuilding: false,
          gone: true,
        });
      } else if (p.reset) {
        const keys = hub.blocks(id);
        yield event({
          endpointId: id,
          blockSize: p.blockSize,
          reset: true,
          added: keys ? [...keys] : [],
          removed: [],
          rebuilding: p.rebuilding,
        });
      } else {
        yield event({
          endpointId: id,
          blockSize: p.blockSize,
          reset: false,
          added: [...p.added],
          removed: [...p.removed],
          rebuilding: p.rebuilding,
        });
      }
    }
  } finally {
    unsubscribe();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
