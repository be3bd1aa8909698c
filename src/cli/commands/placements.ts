/** `mesh placements [--watch]`: every pin, and where its model is loaded now. */
import { pinModeFromProto } from '../../control/records-proto.ts';
import type { MeshClients } from '../client.ts';
import type { CommandOutput, CommandResult } from '../runner.ts';
import { watchList } from '../watch.ts';

/** One placement in `-o json|yaml` output. */
export interface PlacementRow {
  model: string;
  mode: 'prefer' | 'require';
  pinnedNodes: string[];
  minReplicas: number;
  /** Pinned nodes with an endpoint serving the model now. */
  loadedNodes: string[];
  /** `ok` when at least minReplicas pinned nodes serve it, else `degraded`. */
  state: string;
  revision: number;
}

/** Options of `mesh placements`. */
export interface PlacementsOptions {
  watch?: boolean;
}

/** Calls ControlPlane.ListPlacements. */
export async function listPlacements(clients: MeshClients): Promise<CommandResult> {
  const res = await clients.control.listPlacements({}, clients.callOptions);
  const placements = res.placements.map((p): PlacementRow => ({
    model: p.model,
    mode: pinModeFromProto(p.mode) ?? 'prefer',
    pinnedNodes: p.pinnedNodes,
    minReplicas: p.minReplicas,
    loadedNodes: p.loadedNodes,
    state: p.state,
    revision: Number(p.revision),
  }));
  return {
    data: { placements },
    view: {
      head: ['MODEL', 'MODE', 'PINNED', 'MIN', 'LOADED', 'STATE', 'REVISION'],
      rows: placements.map((p) => [
        p.model,
        p.mode,
        p.pinnedNodes.join(','),
        p.minReplicas,
        p.loadedNodes.join(',') || '-',
        p.state,
        p.revision,
      ]),
    },
  };
}

/**
 * `mesh placements`, once or with `--watch`: pins change with policy events, loaded nodes with
 * model state, which records no event, hence the 2 s timer besides.
 */
export async function placements(
  clients: MeshClients,
  opts: PlacementsOptions,
  out: CommandOutput,
): Promise<CommandResult | undefined> {
  if (!opts.watch) return listPlacements(clients);
  const types = [
    'policy_created',
    'policy_updated',
    'policy_deleted',
    'model_loaded',
    'model_unloaded',
  ] as const;
  return watchList(clients, out, { types, pollMs: 2000 }, () => listPlacements(clients));
}
