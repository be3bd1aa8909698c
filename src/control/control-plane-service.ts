/**
 * `infermesh.control.v1.ControlPlane`. Nodes and models are served from what the node already
 * knows (membership, model states); LoadModel / UnloadModel go to the runtime API of the target
 * node's endpoint (`model-control.ts`); pins, placement, policies and events answer UNIMPLEMENTED
 * until the control-plane store lands, rather than pretending with fake data as the original did.
 */
import type { ConnectRouter, ServiceImpl } from '@connectrpc/connect';
import { MeshError } from '../core/errors.ts';
import type { MeshMember, ModelState, NodeInfo } from '../core/types.ts';
import { ControlPlane, ModelStatus, NodeRole, NodeStatus } from '../gen/infermesh/control/v1/control_pb.js';
import { memberToProto, nodeRoleToProto, nodeStatusToProto, nodeToProto } from './control-proto.ts';
import { loadModel, unloadModel, type ModelController } from './model-control.ts';
import { aggregateModels } from './models.ts';

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
}

const notYet = (rpc: string) => new MeshError('not_implemented', `${rpc} lands with the control-plane issue`);

/** The ControlPlane implementation, for `router.service(ControlPlane, impl)`. */
function createControlPlaneService(source: ControlPlaneSource): ServiceImpl<typeof ControlPlane> {
  const control = {
    nodeId: source.nodeId ?? '',
    nodes: () => source.nodes(),
    controller: source.controller,
  };
  return {
    listNodes(req) {
      const nodes = source
        .nodes()
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
      const node = source.nodes().find((n) => n.id === req.nodeId);
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
    drainNode() {
      throw notYet('DrainNode');
    },
    pinModel() {
      throw notYet('PinModel');
    },
    unpinModel() {
      throw notYet('UnpinModel');
    },
    loadModel: (req, ctx) => loadModel(control, req, ctx),
    unloadModel: (req, ctx) => unloadModel(control, req, ctx),
    setPolicy() {
      throw notYet('SetPolicy');
    },
    getPolicy() {
      throw notYet('GetPolicy');
    },
    deletePolicy() {
      throw notYet('DeletePolicy');
    },
    listPolicies() {
      throw notYet('ListPolicies');
    },
    // eslint-disable-next-line require-yield -- declared streaming; fails before the first event
    async *subscribeEvents() {
      throw notYet('SubscribeEvents');
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
