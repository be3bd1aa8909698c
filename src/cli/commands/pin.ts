/** `mesh pin MODEL --node N ...` and `mesh unpin MODEL [--node N ...]`: placement pins of a model. */
import { InvalidArgumentError } from 'commander';
import { pinModeToProto } from '../../control/records-proto.ts';
import { PinMode } from '../../gen/infermesh/control/v1/control_pb.js';
import type { MeshClients } from '../client.ts';
import type { CommandResult } from '../runner.ts';

/** Values of `--mode`. */
export const PIN_MODES = ['prefer', 'require'] as const;

/** Options of `mesh pin`. */
export interface PinOptions {
  node: string[];
  minReplicas?: number;
  mode?: (typeof PIN_MODES)[number];
  source?: string;
  /** `--endpoint-name` (`--endpoint` is the global meshd URL). */
  endpointName?: string;
  revision?: string;
}

/** Options of `mesh unpin`. */
export interface UnpinOptions {
  node?: string[];
}

/** The `-o json|yaml` output of both commands. */
export interface PinResult {
  model: string;
  action: 'pinned' | 'unpinned';
  /** The nodes named on the command line (empty for a whole unpin). */
  nodes: string[];
  message: string;
}

/** Commander parser of `--min-replicas`. */
export function parseReplicas(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function result(r: PinResult): CommandResult {
  return {
    data: r,
    view: {
      head: ['MODEL', 'ACTION', 'NODES', 'MESSAGE'],
      rows: [[r.model, r.action, r.nodes.join(',') || '(all)', r.message]],
    },
  };
}

/** Calls ControlPlane.PinModel (the nodes are added to an existing pin's). */
export async function pinModel(
  clients: MeshClients,
  model: string,
  opts: PinOptions,
): Promise<CommandResult> {
  const res = await clients.control.pinModel(
    {
      model,
      nodeIds: opts.node,
      minReplicas: opts.minReplicas ?? 0,
      mode: opts.mode ? pinModeToProto(opts.mode) : PinMode.UNSPECIFIED,
      revision: opts.revision ?? '',
      source: opts.source ?? '',
      endpoint: opts.endpointName ?? '',
    },
    clients.callOptions,
  );
  return result({ model, action: 'pinned', nodes: opts.node, message: res.message });
}

/** Calls ControlPlane.UnpinModel: the named nodes, or the whole pin without `--node`. */
export async function unpinModel(
  clients: MeshClients,
  model: string,
  opts: UnpinOptions,
): Promise<CommandResult> {
  const nodes = opts.node ?? [];
  const res = await clients.control.unpinModel({ model, nodeIds: nodes }, clients.callOptions);
  return result({ model, action: 'unpinned', nodes, message: res.message });
}
