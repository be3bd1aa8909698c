/** `mesh drain NODE [--force]` and `mesh undrain NODE`: take a node out of routing and back. */
import type { MeshClients } from '../client.ts';
import type { CommandResult } from '../runner.ts';

/** Options of `mesh drain`. */
export interface DrainOptions {
  /** Cut in-flight requests instead of letting them finish. */
  force?: boolean;
}

/** The `-o json|yaml` output of both commands. */
export interface DrainResult {
  node: string;
  /** `draining` or `undrained`. */
  action: 'draining' | 'undrained';
  force: boolean;
  message: string;
}

function result(r: DrainResult): CommandResult {
  return {
    data: r,
    view: {
      head: ['NODE', 'ACTION', 'MESSAGE'],
      rows: [[r.node, r.force ? `${r.action} (force)` : r.action, r.message]],
    },
  };
}

/** Calls ControlPlane.DrainNode: routers stop sending the node new requests. */
export async function drainNode(
  clients: MeshClients,
  node: string,
  opts: DrainOptions,
): Promise<CommandResult> {
  const force = Boolean(opts.force);
  const res = await clients.control.drainNode({ nodeId: node, force }, clients.callOptions);
  return result({ node, action: 'draining', force, message: res.message });
}

/** Calls ControlPlane.UndrainNode (`not_found` when the node is not draining). */
export async function undrainNode(clients: MeshClients, node: string): Promise<CommandResult> {
  const res = await clients.control.undrainNode({ nodeId: node }, clients.callOptions);
  return result({ node, action: 'undrained', force: false, message: res.message });
}
