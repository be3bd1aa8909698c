/**
 * Applies a `ModelStateDelta` from an external reporter to the model `StateStore`: a merge onto the
 * existing record (only the fields set change), a new record when the delta carries the whole
 * identity, or a removal. Invalid deltas throw `MeshError`s; the caller turns them into failed acks.
 */
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { MeshError } from '../../core/errors.ts';
import type { ModelState } from '../../core/types.ts';
import { EndpointHealth, type ModelStateDelta } from '../../gen/infermesh/state/v1/state_pb.js';
import { assignDefined, checkFraction, checkNonNegative, fromFloat } from './delta-checks.ts';
import { healthFromProto, isRuntimeKind } from './model-state-proto.ts';
import type { StateStore } from './state-store.ts';

/** The record a delta was applied to. */
export interface AppliedModelDelta {
  endpointId: string;
  model: string;
  /** What happened to it. */
  action: 'created' | 'updated' | 'removed';
}

/** Finds the record a delta is about: by endpoint id, else the single record matching the labels. */
function findTarget(store: StateStore, delta: ModelStateDelta, model: string): ModelState | undefined {
  if (delta.endpointId) return store.get(delta.endpointId, model);
  const labels = delta.labels;
  const matches = store.list({
    model,
    runtime: labels?.runtime || undefined,
    node: labels?.node || undefined,
  });
  if (matches.length > 1) {
    const ids = matches.map((s) => s.endpointId).sort();
    throw new MeshError(
      'invalid_request',
      `labels match ${matches.length} records (${ids.join(', ')}); set endpoint_id`,
    );
  }
  return matches[0];
}

function checkValues(d: ModelStateDelta): void {
  for (const [field, value] of [
    ['kv_cache_usage', d.kvCacheUsage],
    ['prefix_cache_hit_rate', d.prefixCacheHitRate],
    ['batch_fullness', d.batchFullness],
  ] as const)
    checkFraction(field, value);
  for (const [field, value] of [
    ['service_rate', d.serviceRate],
    ['token_rate', d.tokenRate],
    ['ttft_p95_ms', d.ttftP95Ms],
    ['e2e_p95_ms', d.e2eP95Ms],
    ['itl_p95_ms', d.itlP95Ms],
  ] as const)
    checkNonNegative(field, value);
  if (d.health === EndpointHealth.UNSPECIFIED)
    throw new MeshError('invalid_request', 'health must be HEALTHY, STALE or UNHEALTHY when set');
  if (d.endpointUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(d.endpointUrl))
    throw new MeshError('invalid_request', `endpoint_url must be an http:// or https:// URL`);
}

/** The fields a delta sets, in domain form (absent ones undefined). */
function patchOf(d: ModelStateDelta): Partial<ModelState> {
  return {
    endpointUrl: d.endpointUrl,
    health: d.health === undefined ? undefined : healthFromProto(d.health),
    loaded: d.loaded,
    warming: d.warming,
    queueDepth: d.queueDepth,
    running: d.running,
    kvCacheUsage: d.kvCacheUsage,
    prefixCacheHitRate: d.prefixCacheHitRate,
    requestRate: d.serviceRate,
    tokenRate: d.tokenRate,
    ttftP95Ms: d.ttftP95Ms,
    // The original's whole-ms field, unless the exact one is also set.
    e2eP95Ms: d.e2eP95Ms ?? d.p95LatencyMs,
    itlP95Ms: d.itlP95Ms,
    batchFullness: fromFloat(d.batchFullness),
    kvBlockSize: d.kvBlockSize,
    kvBlocksTotal: d.kvBlocksTotal,
    gpuType: d.gpuType,
  };
}

/** Applies one delta; throws `invalid_request` / `not_found` for one that cannot be applied. */
export function applyModelStateDelta(
  store: StateStore,
  delta: ModelStateDelta,
  now: number,
): AppliedModelDelta {
  const model = delta.labels?.model ?? '';
  if (!model) throw new MeshError('invalid_request', 'labels.model is required');
  const existing = findTarget(store, delta, model);
  const where = delta.endpointId ? `${delta.endpointId} / ${model}` : `model ${model}`;

  if (delta.remove) {
    if (!existing) throw new MeshError('not_found', `no model state for ${where}`);
    store.remove(existing.endpointId, existing.model);
    return { endpointId: existing.endpointId, model, action: 'removed' };
  }
  checkValues(delta);
  const updatedAt = delta.timestamp ? timestampMs(delta.timestamp) : now;

  if (existing) {
    const { runtime, node } = delta.labels ?? {};
    if ((runtime && runtime !== existing.runtime) || (node && node !== existing.node)) {
      throw new MeshError(
        'invalid_request',
        `labels.runtime / labels.node differ from the record of ${existing.endpointId} (${existing.runtime} on ${existing.node})`,
      );
    }
    const next: ModelState = { ...existing, updatedAt };
    assignDefined(next, patchOf(delta));
    store.upsert(next);
    return { endpointId: existing.endpointId, model, action: 'updated' };
  }

  const labels = delta.labels;
  const missing = [
    !delta.endpointId && 'endpoint_id',
    !delta.endpointUrl && 'endpoint_url',
    !labels?.runtime && 'labels.runtime',
    !labels?.node && 'labels.node',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new MeshError(
      'not_found',
      `no model state for ${where}; to create one the delta needs ${missing.join(', ')}`,
    );
  }
  if (!isRuntimeKind(labels!.runtime))
    throw new MeshError('invalid_request', `unknown runtime "${labels!.runtime}"`, {
      param: 'labels.runtime',
    });
  const created: ModelState = {
    endpointId: delta.endpointId,
    endpointUrl: delta.endpointUrl!,
    node: labels!.node,
    model,
    runtime: labels!.runtime,
    health: 'healthy',
    loaded: false,
    warming: false,
    updatedAt,
  };
  assignDefined(created, patchOf(delta));
  store.upsert(created);
  return { endpointId: created.endpointId, model, action: 'created' };
}
