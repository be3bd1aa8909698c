/**
 * `infermesh.control.v1.ControlPlane`. Nodes and models are served from what the node already
 * knows (membership, model states), with drains from the control store; LoadModel / UnloadModel go
 * to the runtime API of the target node's endpoint (`model-control.ts`); drains, pins, policies,
 * tenants and events are stored records (`records-service.ts`).
 */
import type { ConnectRouter, ServiceImpl } from '@connectrpc/connect';
import { MeshError } from '../core/errors.ts';
import type { MeshMember, ModelState, NodeInfo } from '../core/types.ts';
import { ControlPlane, ModelStatus, NodeRole, NodeStatus } from '../gen/infermesh/control/v1/control_pb.js';
import { memberToProto, nodeRoleToProto, nodeStatusToProto, nodeToProto } from './control-proto.ts';
import { loadModel, unloadModel, type ModelControlDeps, type ModelController } from './model-control.ts';
import { aggregateModels } from './models.ts';
import { recordRpcs, type ControlRecords } from './records-service.ts';

/** What the control plane reads; the agent wires membership and the state store behind it. */
export interface ControlPlaneSource {
  /** Every node this node knows, itself included. */
  nodes(): NodeInfo[];
  /** Gossip members, this node included; undefined when the node does not gossip. */
  members?(): MeshMember[] | undefined;
  /** Every model state this node knows (local and mirrored from peers). */
  modelStates(): ModelState[];
  /** This node's id: LoadModel / UnloadModel for it are served here, others forwarded. */
  nodeId?: string;
  /** This node's runtime endpoints (absent without the gpu role). */
  controller?: ModelController;
  /** The control store, its mirror and its writer. */
  records: ControlRecords;
  /** TLS options for a forwarded call to node `nodeId` (`security.tls`). */
  linkOptions?: ModelControlDeps['linkOptions'];
}

/** The ControlPlane implementation, for `router.service(ControlPlane, impl)`. */
function createControlPlaneService(source: ControlPlaneSource): ServiceImpl<typeof ControlPlane> {
  const control = {
    nodeId: source.nodeId ?? '',
    nodes: () => source.nodes(),
    controller: source.controller,
    ...(source.linkOptions ? { linkOptions: source.linkOptions } : {}),
  };
  /** Nodes as known, `draining` where the store says so. */
  const knownNodes = (): NodeInfo[] => {
    const drains = source.records.view.snapshot().drains;
    return source.nodes().map((n) => (drains.has(n.id) ? { ...n, status: 'draining' } : n));
  };
  // The load happened; an event the store cannot take must not turn it into an error.
  const recordQuietly = (type: 'model_loaded' | 'model_unloaded', data: Record<string, string>) =>
    source.records.writer.recordEvent(type, data).catch(() => undefined);
  return {
    ...recordRpcs(source.records, {
      knowsNode: (id) =>
        source.nodes().some((n) => n.id === id) || !!source.members?.()?.some((m) => m.id === id),
      modelStates: () => source.modelStates(),
    }),
    listNodes(req) {
      const nodes = knownNodes()
        .filter(
          (n) =>
            req.roleFilter === NodeRole.UNSPECIFIED ||
            n.roles.some((r) => nodeRoleToProto(r) === req.roleFilter),
        )
        .filter(
          (n) =>
            req.statusFilter === NodeStatus.UNSPECIFIED || nodeStatusToProto(n.status) === req.statusFilter,
        )
        .sort((a, b) => a.id.localeCompare(b.id));
      return { nodes: nodes.map(nodeToProto) };
    },
    getNode(req) {
      if (!req.nodeId) throw new MeshError('invalid_request', 'node_id is required');
      const node = knownNodes().find((n) => n.id === req.nodeId);
      if (!node) throw new MeshError('not_found', `no node "${req.nodeId}"`);
      return { node: nodeToProto(node) };
    },
    listMembers() {
      const members = source.members?.();
      if (!members) return { members: [], gossip: false };
      return {
        members: [...members].sort((a, b) => a.id.localeCompare(b.id)).map(memberToProto),
        gossip: true,
      };
    },
    listModels(req) {
      const models = aggregateModels(source.modelStates()).filter(
        (m) => req.statusFilter === ModelStatus.UNSPECIFIED || m.status === req.statusFilter,
      );
      return { models };
    },
    async loadModel(req, ctx) {
      const r = await loadModel(control, req, ctx);
      if (req.nodeId === control.nodeId)
        await recordQuietly('model_loaded', { model: req.model, node: r.nodeId, endpoint: r.endpointId });
      return r;
    },
    async unloadModel(req, ctx) {
      // A pinned model comes back by itself (pin-keeper.ts): refuse rather than pretend.
      const pin = [...source.records.view.snapshot().policies.values()].find(
        (p) =>
          p.type === 'placement' && p.targetModels[0] === req.model && p.targetNodes.includes(req.nodeId),
      );
      if (pin)
        throw new MeshError(
          'conflict',
          `"${req.model}" is pinned to node ${req.nodeId} (policy ${pin.name}): unpin it first`,
        );
      const r = await unloadModel(control, req, ctx);
      if (req.nodeId === control.nodeId)
        await recordQuietly('model_unloaded', { model: req.model, node: r.nodeId, endpoint: r.endpointId });
      return r;
    },
  };
}

/** Registers the ControlPlane service on a router (what the agent passes to the API server). */
export function controlPlaneRoutes(source: ControlPlaneSource): (router: ConnectRouter) => void {
  const impl = createControlPlaneService(source);
  return (router) => {
    router.service(ControlPlane, impl);
  };
}
