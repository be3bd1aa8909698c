/**
 * The model list of the control plane, aggregated from model states until models have their own
 * store (placements, pins): one entry per model name.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ModelState } from '../core/types.ts';
import { ModelSchema, ModelStatus, type Model } from '../gen/infermesh/control/v1/control_pb.js';

/**
 * Status of a model from its endpoints: LOADED if any endpoint has it loaded, LOADING if one is
 * warming it up, AVAILABLE otherwise (known to some runtime, loaded nowhere).
 */
function aggregateStatus(states: readonly ModelState[]): ModelStatus {
  if (states.some((s) => s.loaded)) return ModelStatus.LOADED;
  if (states.some((s) => s.warming)) return ModelStatus.LOADING;
  return ModelStatus.AVAILABLE;
}

/** One `Model` per model name, sorted by name; runtimes and nodes are sorted and de-duplicated. */
export function aggregateModels(states: readonly ModelState[]): Model[] {
  const byName = new Map<string, ModelState[]>();
  for (const state of states) {
    const list = byName.get(state.model);
    if (list) list.push(state);
    else byName.set(state.model, [state]);
  }
  return [...byName.keys()].sort().map((name) => {
    const group = byName.get(name) ?? [];
    const sortedUnique = (values: string[]) => [...new Set(values)].sort();
    return create(ModelSchema, {
      name,
      runtime: sortedUnique(group.map((s) => s.runtime)).join(','),
      status: aggregateStatus(group),
      nodes: sortedUnique(group.map((s) => s.node)),
      endpoints: group.length,
      updatedAt: timestampFromMs(Math.max(...group.map((s) => s.updatedAt))),
    });
  });
}
