/**
 * `infermesh.state.v1.StatePlane` over a `StateStore`: list, get and watch model states.
 * Reporting and GPU state answer UNIMPLEMENTED until their issue lands.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { ConnectRouter, HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { MeshError } from '../../core/errors.ts';
import type { ModelState } from '../../core/types.ts';
import {
  ModelStateEventSchema,
  StatePlane,
  type ModelStateEvent,
  type WatchModelStatesRequest,
} from '../../gen/infermesh/state/v1/state_pb.ts';
import { modelStateToProto } from './model-state-proto.ts';
import { matchesFilter, type ModelStateFilter, type StateEvent, type StateStore } from './state-store.ts';

/** What the StatePlane serves. */
export interface StatePlaneServiceOptions {
  store: StateStore;
  /** This node's id, sent in `snapshot_done` so subscribers learn whom they mirror. */
  nodeId?: string;
}

type EventInit = MessageInitShape<typeof ModelStateEventSchema>;

const keyOf = (s: ModelState) => `${s.endpointId}\u0000${s.model}`;
const byKey = (a: ModelState, b: ModelState) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0);

function filterOf(req: {
  modelFilter: string;
  runtimeFilter: string;
  nodeFilter: string;
  loadedOnly: boolean;
}) {
  return {
    model: req.modelFilter || undefined,
    runtime: req.runtimeFilter || undefined,
    node: req.nodeFilter || undefined,
    loadedOnly: req.loadedOnly,
  } satisfies ModelStateFilter;
}

const notYet = (rpc: string) =>
  new MeshError('not_implemented', `${rpc} lands with the state-reporting issue`);

/** The StatePlane implementation, for `router.service(StatePlane, impl)`. */
export function createStatePlaneService(options: StatePlaneServiceOptions): ServiceImpl<typeof StatePlane> {
  const { store } = options;
  return {
    // eslint-disable-next-line require-yield -- declared streaming; fails before the first message
    async *reportModelState() {
      throw notYet('ReportModelState');
    },
    // eslint-disable-next-line require-yield -- as above
    async *reportGpuState() {
      throw notYet('ReportGpuState');
    },
    getGpuState() {
      throw notYet('GetGpuState');
    },
    listGpuStates() {
      throw notYet('ListGpuStates');
    },

    listModelStates(req) {
      const states = store.list(filterOf(req)).sort(byKey);
      return { states: states.map(modelStateToProto) };
    },

    getModelState(req) {
      const model = req.labels?.model ?? '';
      if (!model) throw new MeshError('invalid_request', 'labels.model is required');
      let found: ModelState | undefined;
      if (req.endpointId) {
        found = store.get(req.endpointId, model);
      } else {
        const filter = {
          model,
          runtime: req.labels?.runtime || undefined,
          node: req.labels?.node || undefined,
        };
        found = store.list(filter).sort(byKey)[0];
      }
      return found ? { state: modelStateToProto(found), found: true } : { found: false };
    },

    watchModelStates: (req, ctx) => watch(store, req, ctx, options.nodeId ?? ''),
  };
}

/** Registers the StatePlane service on a router (what the agent passes to the API server). */
export function statePlaneRoutes(options: StatePlaneServiceOptions): (router: ConnectRouter) => void {
  const impl = createStatePlaneService(options);
  return (router) => {
    router.service(StatePlane, impl);
  };
}

/**
 * Snapshot, marker, then deltas. Pending changes are coalesced per record, so a slow client costs
 * at most one queued event per record and always ends up with the latest state.
 */
async function* watch(
  store: StateStore,
  req: WatchModelStatesRequest,
  ctx: HandlerContext,
  nodeId: string,
): AsyncGenerator<ModelStateEvent> {
  const filter = filterOf(req);
  // Records the client holds (or will hold once the queue drains): decides upsert vs remove.
  const visible = new Set<string>();
  const pending = new Map<string, EventInit>();
  let wake: (() => void) | undefined;

  const onEvent = (event: StateEvent) => {
    const key = keyOf(event.state);
    const matches = event.type === 'upsert' && matchesFilter(event.state, filter);
    if (matches) {
      visible.add(key);
      pending.set(key, { event: { case: 'upsert', value: modelStateToProto(event.state) } });
    } else if (visible.delete(key)) {
      pending.set(key, { event: { case: 'remove', value: modelStateToProto(event.state) } });
    } else {
      return;
    }
    wake?.();
  };
  // Subscribe and list in the same tick: the store is synchronous, so nothing falls in between.
  const unsubscribe = store.watch(onEvent);
  const onAbort = () => wake?.();
  ctx.signal.addEventListener('abort', onAbort);
  try {
    const snapshot = store.list(filter).sort(byKey);
    for (const state of snapshot) visible.add(keyOf(state));
    for (const state of snapshot) {
      if (ctx.signal.aborted) return;
      yield create(ModelStateEventSchema, { event: { case: 'upsert', value: modelStateToProto(state) } });
    }
    yield create(ModelStateEventSchema, {
      event: { case: 'snapshotDone', value: { count: snapshot.length, nodeId } },
    });
    while (!ctx.signal.aborted) {
      if (pending.size === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const [key, event] = pending.entries().next().value as [string, EventInit];
      pending.delete(key);
      yield create(ModelStateEventSchema, event);
    }
  } finally {
    unsubscribe();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
