/**
 * `infermesh.state.v1.StatePlane` over the model `StateStore` and the `GpuStore`: list, get and
 * watch both kinds of state, and take deltas from external reporters (`ReportModelState`,
 * `ReportGpuState`).
 */
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter, ServiceImpl } from '@connectrpc/connect';
import { MeshError } from '../../core/errors.ts';
import type { GpuState } from '../../core/gpu.ts';
import type { ModelState } from '../../core/types.ts';
import {
  GpuStateEventSchema,
  ModelStateEventSchema,
  StatePlane,
} from '../../gen/infermesh/state/v1/state_pb.js';
import type { Logger } from '../../observability/log.ts';
import { gpuStateToProto } from './gpu-state-proto.ts';
import { createInFlightRegistry, shareInFlightStream, type InFlightRegistry } from './in-flight-registry.ts';
import { createGpuStore, matchesGpuFilter, type GpuStateFilter, type GpuStore } from './gpu-store.ts';
import { modelStateToProto } from './model-state-proto.ts';
import { reportGpuStates, reportModelStates } from './state-report.ts';
import type { PrefixBlockHub } from './prefix-blocks.ts';
import { watchPrefixBlocks } from './prefix-blocks-watch.ts';
import { matchesFilter, type ModelStateFilter, type StateStore } from './state-store.ts';
import { watchStream } from './watch-stream.ts';

/** What the StatePlane serves. */
export interface StatePlaneServiceOptions {
  store: StateStore;
  /** GPU states; a node without one serves an empty list. */
  gpus?: GpuStore;
  /** This node's id, sent in `snapshot_done` so subscribers learn whom they mirror. */
  nodeId?: string;
  /** Unix ms stamped on reported deltas without a timestamp. */
  clock?: () => number;
  logger?: Logger;
  /** The node's precise prefix state (`WatchPrefixBlocks`); an empty stream when absent. */
  prefixBlocks?: PrefixBlockHub;
  /** The routers' shared in-flight reports (`ShareInFlight`); one of its own when absent. */
  inFlight?: InFlightRegistry;
}

const keyOf = (s: ModelState) => `${s.endpointId}\u0000${s.model}`;
const byKey = (a: ModelState, b: ModelState) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0);
const gpuKeyOf = (s: GpuState) => `${s.node}\u0000${s.uuid}`;

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

const gpuFilterOf = (req: { nodeFilter: string; healthyOnly: boolean }): GpuStateFilter => ({
  node: req.nodeFilter || undefined,
  healthyOnly: req.healthyOnly,
});

/** The StatePlane implementation, for `router.service(StatePlane, impl)`. */
export function createStatePlaneService(options: StatePlaneServiceOptions): ServiceImpl<typeof StatePlane> {
  const { store } = options;
  const gpus = options.gpus ?? createGpuStore();
  const nodeId = options.nodeId ?? '';
  const reportDeps = { clock: options.clock ?? Date.now, logger: options.logger };
  const inFlight = options.inFlight ?? createInFlightRegistry();
  return {
    shareInFlight: (reports, ctx) =>
      shareInFlightStream(inFlight, reports, ctx, { nodeId, logger: options.logger }),

    watchPrefixBlocks: (req, ctx) => watchPrefixBlocks(options.prefixBlocks, req, ctx, nodeId),
    reportModelState: (deltas) => reportModelStates(store, deltas, reportDeps),
    reportGpuState: (deltas) => reportGpuStates(gpus, deltas, reportDeps),

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

    listGpuStates(req) {
      return { states: gpus.list(gpuFilterOf(req)).map(gpuStateToProto) };
    },

    getGpuState(req) {
      if (!req.gpuUuid) throw new MeshError('invalid_request', 'gpu_uuid is required');
      const found = req.node
        ? gpus.get(req.node, req.gpuUuid)
        : gpus.list().find((g) => g.uuid === req.gpuUuid);
      return found ? { state: gpuStateToProto(found), found: true } : { found: false };
    },

    watchModelStates(req, ctx) {
      const filter = filterOf(req);
      return watchStream(
        {
          watch: (listener) => store.watch(listener),
          snapshot: () => store.list(filter).sort(byKey),
          matches: (s) => matchesFilter(s, filter),
          key: keyOf,
        },
        {
          upsert: (s) =>
            create(ModelStateEventSchema, { event: { case: 'upsert', value: modelStateToProto(s) } }),
          remove: (s) =>
            create(ModelStateEventSchema, { event: { case: 'remove', value: modelStateToProto(s) } }),
          done: (count) =>
            create(ModelStateEventSchema, { event: { case: 'snapshotDone', value: { count, nodeId } } }),
        },
        ctx,
      );
    },

    watchGpuStates(req, ctx) {
      const filter = gpuFilterOf(req);
      return watchStream(
        {
          watch: (listener) => gpus.watch(listener),
          snapshot: () => gpus.list(filter),
          matches: (s) => matchesGpuFilter(s, filter),
          key: gpuKeyOf,
        },
        {
          upsert: (s) =>
            create(GpuStateEventSchema, { event: { case: 'upsert', value: gpuStateToProto(s) } }),
          remove: (s) =>
            create(GpuStateEventSchema, { event: { case: 'remove', value: gpuStateToProto(s) } }),
          done: (count) =>
            create(GpuStateEventSchema, { event: { case: 'snapshotDone', value: { count, nodeId } } }),
        },
        ctx,
      );
    },
  };
}

/** Registers the StatePlane service on a router (what the agent passes to the API server). */
export function statePlaneRoutes(options: StatePlaneServiceOptions): (router: ConnectRouter) => void {
  const impl = createStatePlaneService(options);
  return (router) => {
    router.service(StatePlane, impl);
  };
}
