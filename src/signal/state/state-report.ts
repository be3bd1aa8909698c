/**
 * The server side of `ReportModelState` and `ReportGpuState`: one ack per delta, in order. A delta
 * that cannot be applied gets a failed ack with a stable code; the stream goes on, because one bad
 * reading from an external adapter must not cost it the connection.
 */
import { create } from '@bufbuild/protobuf';
import { MeshError } from '../../core/errors.ts';
import type { Logger } from '../../observability/log.ts';
import {
  GpuStateAckSchema,
  ModelStateAckSchema,
  type GpuStateAck,
  type GpuStateDelta,
  type ModelStateAck,
  type ModelStateDelta,
} from '../../gen/infermesh/state/v1/state_pb.js';
import { applyGpuStateDelta } from './gpu-state-delta.ts';
import type { GpuStore } from './gpu-store.ts';
import { applyModelStateDelta } from './model-state-delta.ts';
import type { StateStore } from './state-store.ts';

/** What the report handlers need. */
export interface ReportDeps {
  clock: () => number;
  logger?: Logger;
}

/** Runs `apply`; a thrown error becomes `{code, message}` (logged when it is our bug). */
function attempt<T>(apply: () => T, deps: ReportDeps): { ok: T } | { code: string; message: string } {
  try {
    return { ok: apply() };
  } catch (err) {
    const mesh = MeshError.from(err);
    if (mesh.code === 'internal') deps.logger?.error({ err }, 'applying a reported state failed');
    return { code: mesh.code, message: mesh.message };
  }
}

/** Applies each model state delta to `store`, yielding one ack per delta. */
export async function* reportModelStates(
  store: StateStore,
  deltas: AsyncIterable<ModelStateDelta>,
  deps: ReportDeps,
): AsyncGenerator<ModelStateAck> {
  for await (const delta of deltas) {
    const result = attempt(() => applyModelStateDelta(store, delta, deps.clock()), deps);
    if ('ok' in result) {
      const { endpointId, model, action } = result.ok;
      yield create(ModelStateAckSchema, { success: true, message: action, endpointId, model });
    } else {
      yield create(ModelStateAckSchema, {
        success: false,
        message: result.message,
        errorCode: result.code,
        endpointId: delta.endpointId,
        model: delta.labels?.model ?? '',
      });
    }
  }
}

/** Applies each GPU state delta to `store`, yielding one ack per delta. */
export async function* reportGpuStates(
  store: GpuStore,
  deltas: AsyncIterable<GpuStateDelta>,
  deps: ReportDeps,
): AsyncGenerator<GpuStateAck> {
  for await (const delta of deltas) {
    const result = attempt(() => applyGpuStateDelta(store, delta, deps.clock()), deps);
    const ids = { gpuUuid: delta.gpuUuid, node: delta.node };
    yield 'ok' in result
      ? create(GpuStateAckSchema, { success: true, message: result.ok.action, ...ids })
      : create(GpuStateAckSchema, {
          success: false,
          message: result.message,
          errorCode: result.code,
          ...ids,
        });
  }
}
