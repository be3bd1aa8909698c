/** `mesh load-model` and `mesh unload-model`: model lifecycle on a node's runtime (ControlPlane). */
import { InvalidArgumentError } from 'commander';
import type { MeshClients } from '../client.ts';
import type { TableView } from '../output.ts';

/** Options of `mesh load-model`. */
export interface LoadModelOptions {
  node: string;
  /** `--endpoint-name` (`--endpoint` is the global meshd URL). */
  endpointName?: string;
  source?: string;
  baseModel?: string;
  config?: Record<string, string>;
}

/** Options of `mesh unload-model`. */
export interface UnloadModelOptions {
  node: string;
  endpointName?: string;
}

/** The `-o json|yaml` output of both commands. */
export interface ModelActionResult {
  model: string;
  /** `loaded` or `unloaded`. */
  action: string;
  nodeId: string;
  /** `<node>/<endpoint>` that did it. */
  endpointId: string;
  message: string;
}

/** Commander parser of a repeatable `--config key=value`. */
export function parseConfigPair(
  value: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Both commands' output: the data, and its one-row table. */
function actionResult(
  model: string,
  action: 'loaded' | 'unloaded',
  res: { nodeId: string; endpointId: string; message: string },
): { data: ModelActionResult; view: TableView } {
  const data = { model, action, nodeId: res.nodeId, endpointId: res.endpointId, message: res.message };
  const view = {
    head: ['MODEL', 'ACTION', 'NODE', 'ENDPOINT'],
    rows: [[data.model, data.action, data.nodeId, data.endpointId]],
  };
  return { data, view };
}

/** Calls ControlPlane.LoadModel on the endpoint's meshd (which forwards to `--node`). */
export async function loadModel(
  clients: MeshClients,
  model: string,
  opts: LoadModelOptions,
): Promise<{ data: ModelActionResult; view: TableView }> {
  const res = await clients.control.loadModel(
    {
      model,
      nodeId: opts.node,
      endpoint: opts.endpointName ?? '',
      source: opts.source ?? '',
      baseModel: opts.baseModel ?? '',
      config: opts.config ?? {},
    },
    clients.callOptions,
  );
  return actionResult(model, 'loaded', res);
}

/** Calls ControlPlane.UnloadModel. */
export async function unloadModel(
  clients: MeshClients,
  model: string,
  opts: UnloadModelOptions,
): Promise<{ data: ModelActionResult; view: TableView }> {
  const res = await clients.control.unloadModel(
    { model, nodeId: opts.node, endpoint: opts.endpointName ?? '' },
    clients.callOptions,
  );
  return actionResult(model, 'unloaded', res);
}
