/**
 * Conversion between the domain `ModelState` and its wire form `infermesh.state.v1.ModelState`,
 * in one place so the StatePlane service and the remote subscriber agree field by field.
 * Identity (`model`, `runtime`, `node`) travels in `labels`, as in the original contract.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { MeshError } from '../../core/errors.ts';
import {
  PROTOCOLS,
  RUNTIME_KINDS,
  type EndpointHealth,
  type ModelState,
  type Protocol,
  type RuntimeKind,
} from '../../core/types.ts';
import {
  EndpointHealth as PbHealth,
  LabelsSchema,
  ModelStateSchema,
  type ModelState as PbModelState,
} from '../../gen/infermesh/state/v1/state_pb.js';

const HEALTH_TO_PB: Record<EndpointHealth, PbHealth> = {
  healthy: PbHealth.HEALTHY,
  stale: PbHealth.STALE,
  unhealthy: PbHealth.UNHEALTHY,
};

/** Domain health → wire enum. */
export const healthToProto = (health: EndpointHealth): PbHealth => HEALTH_TO_PB[health];

/** Domain → wire. Absent optional signals stay absent on the wire (proto3 `optional`). */
export function modelStateToProto(state: ModelState): PbModelState {
  return create(ModelStateSchema, {
    labels: create(LabelsSchema, { model: state.model, runtime: state.runtime, node: state.node }),
    endpointId: state.endpointId,
    endpointUrl: state.endpointUrl,
    health: HEALTH_TO_PB[state.health],
    loaded: state.loaded,
    warming: state.warming,
    queueDepth: state.queueDepth,
    running: state.running,
    kvCacheUsage: state.kvCacheUsage,
    prefixCacheHitRate: state.prefixCacheHitRate,
    requestRate: state.requestRate,
    tokenRate: state.tokenRate,
    ttftP95Ms: state.ttftP95Ms,
    e2eP95Ms: state.e2eP95Ms,
    batchFullness: state.batchFullness,
    kvBlockSize: state.kvBlockSize,
    kvBlocksTotal: state.kvBlocksTotal,
    gpuType: state.gpuType,
    updatedAt: timestampFromMs(state.updatedAt),
    itlP95Ms: state.itlP95Ms,
    loraAdapters: state.loraAdapters ? [...state.loraAdapters] : [],
    protocols: state.protocols ? [...state.protocols] : [],
    canLoad: state.canLoad,
    canUnload: state.canUnload,
    gpuUuids: state.gpuUuids ? [...state.gpuUuids] : [],
  });
}

/** Wire → domain health. */
export function healthFromProto(health: PbHealth): EndpointHealth {
  switch (health) {
    case PbHealth.HEALTHY:
      return 'healthy';
    case PbHealth.STALE:
      return 'stale';
    // Unspecified (an older or careless peer) is treated as the safe choice: not routable.
    default:
      return 'unhealthy';
  }
}

/** Whether `value` names a runtime kind we have adapters for. */
export function isRuntimeKind(value: string): value is RuntimeKind {
  return (RUNTIME_KINDS as readonly string[]).includes(value);
}

/**
 * Wire → domain. Throws `invalid_request` when the identity is incomplete or the runtime is not
 * one we know, because such a record could not be routed or keyed correctly.
 */
export function modelStateFromProto(pb: PbModelState): ModelState {
  const labels = pb.labels;
  if (!labels?.model || !labels.node || !pb.endpointId) {
    throw new MeshError('invalid_request', 'model state needs endpoint_id, labels.model and labels.node');
  }
  if (!isRuntimeKind(labels.runtime)) {
    throw new MeshError(
      'invalid_request',
      `unknown runtime "${labels.runtime}" in model state of ${pb.endpointId}`,
    );
  }
  const state: ModelState = {
    endpointId: pb.endpointId,
    endpointUrl: pb.endpointUrl,
    node: labels.node,
    model: labels.model,
    runtime: labels.runtime,
    health: healthFromProto(pb.health),
    loaded: pb.loaded,
    warming: pb.warming,
    updatedAt: pb.updatedAt ? timestampMs(pb.updatedAt) : 0,
  };
  // Copy only the signals that are present, so `deepEqual` with the original holds.
  const optional = {
    queueDepth: pb.queueDepth,
    running: pb.running,
    kvCacheUsage: pb.kvCacheUsage,
    prefixCacheHitRate: pb.prefixCacheHitRate,
    requestRate: pb.requestRate,
    tokenRate: pb.tokenRate,
    ttftP95Ms: pb.ttftP95Ms,
    e2eP95Ms: pb.e2eP95Ms,
    batchFullness: pb.batchFullness,
    kvBlockSize: pb.kvBlockSize,
    kvBlocksTotal: pb.kvBlocksTotal,
    gpuType: pb.gpuType,
    itlP95Ms: pb.itlP95Ms,
    // An empty list reads as absent: the wire cannot tell "none" from "not reported".
    loraAdapters: pb.loraAdapters.length > 0 ? [...pb.loraAdapters] : undefined,
    // Protocols a newer peer speaks and we do not are dropped: we could not forward them anyway.
    protocols: pb.protocols.length > 0 ? pb.protocols.filter(isProtocol) : undefined,
    canLoad: pb.canLoad,
    canUnload: pb.canUnload,
    gpuUuids: pb.gpuUuids.length > 0 ? [...pb.gpuUuids] : undefined,
  } satisfies Partial<ModelState>;
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(state, { [key]: value });
  }
  return state;
}

const isProtocol = (value: string): value is Protocol => (PROTOCOLS as readonly string[]).includes(value);
