/** `mesh list-models`: models served in the mesh, one row per model name. */
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { modelStatusName } from '../../control/control-proto.ts';
import type { MeshClients } from '../client.ts';
import { isoOrNull, type TableView } from '../output.ts';

/** One model in `-o json|yaml` output. */
export interface ModelRow {
  name: string;
  revision: string;
  /** Runtime kind; several are joined with ",". */
  runtime: string;
  /** `loaded`, `loading`, `available`, ... */
  status: string;
  endpoints: number;
  nodes: string[];
  pinnedNodes: string[];
  /** ISO time of the freshest endpoint state, null when unknown. */
  updatedAt: string | null;
}

/** Calls ControlPlane.ListModels; returns the JSON/YAML data and its table view. */
export async function listModels(
  clients: MeshClients,
): Promise<{ data: { models: ModelRow[] }; view: TableView }> {
  const res = await clients.control.listModels({}, clients.callOptions);
  const models = res.models.map((m): ModelRow => ({
    name: m.name,
    revision: m.revision,
    runtime: m.runtime,
    status: modelStatusName(m.status),
    endpoints: m.endpoints,
    nodes: m.nodes,
    pinnedNodes: m.pinnedNodes,
    updatedAt: m.updatedAt ? isoOrNull(timestampMs(m.updatedAt)) : null,
  }));
  const view: TableView = {
    head: ['MODEL', 'RUNTIME', 'STATUS', 'ENDPOINTS', 'NODES'],
    rows: models.map((m) => [m.name, m.runtime, m.status, m.endpoints, m.nodes.join(',')]),
  };
  return { data: { models }, view };
}
