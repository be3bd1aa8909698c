/**
 * `mesh stats`: live load per model, summed over its endpoints, from the StatePlane's model
 * states, with the node count from the ControlPlane.
 */
import { modelStateFromProto } from '../../signal/state/model-state-proto.ts';
import type { ModelState } from '../../core/types.ts';
import { NodeStatus } from '../../gen/infermesh/control/v1/control_pb.js';
import type { MeshClients } from '../client.ts';
import type { TableView } from '../output.ts';

/** One model in `-o json|yaml` output. */
export interface ModelStats {
  model: string;
  endpoints: number;
  /** Endpoints whose health is `healthy`. */
  healthy: number;
  /** Requests waiting, summed over endpoints that report it. */
  queueDepth: number;
  /** Requests in running batches, summed over endpoints that report it. */
  running: number;
  /** Mean KV cache use (0..1) over endpoints that report it; null when none does. */
  meanKvCacheUsage: number | null;
}

/** `mesh stats -o json` output. */
export interface StatsResult {
  nodes: { total: number; healthy: number };
  models: ModelStats[];
}

/** Aggregates model states per model name, sorted by name. */
export function summarise(states: readonly ModelState[]): ModelStats[] {
  const byModel = new Map<string, ModelState[]>();
  for (const s of states) byModel.set(s.model, [...(byModel.get(s.model) ?? []), s]);
  return [...byModel.keys()].sort().map((model) => {
    const group = byModel.get(model) ?? [];
    const kv = group.map((s) => s.kvCacheUsage).filter((v): v is number => v !== undefined);
    return {
      model,
      endpoints: group.length,
      healthy: group.filter((s) => s.health === 'healthy').length,
      queueDepth: group.reduce((sum, s) => sum + (s.queueDepth ?? 0), 0),
      running: group.reduce((sum, s) => sum + (s.running ?? 0), 0),
      meanKvCacheUsage: kv.length > 0 ? kv.reduce((a, b) => a + b, 0) / kv.length : null,
    };
  });
}

const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

/** Reads model states and nodes in parallel; returns the JSON/YAML data and its table view. */
export async function stats(clients: MeshClients): Promise<{ data: StatsResult; view: TableView }> {
  const [states, nodes] = await Promise.all([
    clients.state.listModelStates({}, clients.callOptions),
    clients.control.listNodes({}, clients.callOptions),
  ]);
  const models = summarise(states.states.map(modelStateFromProto));
  const healthyNodes = nodes.nodes.filter((n) => n.status === NodeStatus.HEALTHY).length;
  const data: StatsResult = { nodes: { total: nodes.nodes.length, healthy: healthyNodes }, models };
  const view: TableView = {
    head: ['MODEL', 'ENDPOINTS', 'HEALTHY', 'QUEUE', 'RUNNING', 'KV USE'],
    rows: models.map((m) => [
      m.model,
      m.endpoints,
      m.healthy,
      m.queueDepth,
      m.running,
      percent(m.meanKvCacheUsage),
    ]),
    footer: [`nodes: ${data.nodes.total} (${data.nodes.healthy} healthy)`],
  };
  return { data, view };
}
