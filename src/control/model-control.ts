/**
 * `ControlPlane.LoadModel` / `UnloadModel`: on the target node, the call goes to the runtime API of
 * one of its endpoints (vLLM LoRA, Triton's repository, TorchServe's management API, as each
 * adapter implements it); on any other node, it is forwarded once to the target's ControlPlane.
 */
import type { ConnectionOptions } from 'node:tls';
import { MeshError } from '../core/errors.ts';
import type { NodeInfo, RuntimeKind } from '../core/types.ts';
import type { LoadModelRequest, UnloadModelRequest } from '../gen/infermesh/control/v1/control_pb.js';
import { forwardToNode } from './forward.ts';

/**
 * The runtime API of one endpoint, as the control plane needs it (the runtime adapters'
 * `RuntimeControl` fits). Both throw `MeshError`: `not_found`, `invalid_request`, `upstream_error`.
 */
export interface EndpointControl {
  loadModel(
    model: string,
    options?: { source?: string; baseModel?: string; config?: Record<string, string> },
  ): Promise<void>;
  unloadModel(model: string): Promise<void>;
}

/** This node's runtime endpoints and their controls (the runtime scraper fits). */
export interface ModelController {
  endpoints(): ReadonlyArray<{ name: string; runtime: RuntimeKind; models: readonly string[] }>;
  /** The endpoint's control, or undefined when its runtime cannot load models at run time. */
  control(endpointName: string): EndpointControl | undefined;
}

/** What LoadModel / UnloadModel need from the node. */
export interface ModelControlDeps {
  /** This node's id: requests for it are served here, others forwarded. */
  nodeId: string;
  nodes(): NodeInfo[];
  /** Absent on a node without the gpu role: it has no endpoints of its own. */
  controller?: ModelController;
  /**
   * TLS for a forwarded call to node `nodeId` (`https.request` options: the node certificate to
   * present and the check of the target's), with `security.tls`.
   */
  linkOptions?: (nodeId: string) => ConnectionOptions;
}

/** Per-call context: the client's deadline and cancellation, and the headers it sent. */
export interface CallContext {
  signal: AbortSignal;
  timeoutMs(): number | undefined;
  requestHeader: Headers;
}

/** Result of a load or unload, where it happened. */
export interface ModelControlResult {
  success: true;
  message: string;
  nodeId: string;
  endpointId: string;
}

type Endpoint = ReturnType<ModelController['endpoints']>[number];

/** The endpoint a request names, or the only one that fits; throws when none or several fit. */
function pickEndpoint(
  deps: ModelControlDeps,
  named: string,
  fits: (ep: Endpoint, controller: ModelController) => boolean,
  describe: string,
): { endpoint: Endpoint; control: EndpointControl | undefined } {
  const controller = deps.controller;
  const endpoints = controller?.endpoints() ?? [];
  if (named) {
    const endpoint = endpoints.find((ep) => ep.name === named);
    if (!endpoint) throw new MeshError('not_found', `no endpoint "${named}" on node ${deps.nodeId}`);
    return { endpoint, control: controller!.control(named) };
  }
  const candidates = endpoints.filter((ep) => fits(ep, controller!));
  if (candidates.length === 1)
    return { endpoint: candidates[0]!, control: controller!.control(candidates[0]!.name) };
  if (candidates.length === 0)
    throw new MeshError('not_found', `no endpoint of node ${deps.nodeId} ${describe}`);
  const names = candidates.map((ep) => ep.name).sort();
  throw new MeshError(
    'invalid_request',
    `several endpoints of node ${deps.nodeId} ${describe} (${names.join(', ')}); name one with endpoint`,
  );
}

const cannot = (what: string, ep: Endpoint, nodeId: string) =>
  new MeshError(
    'invalid_request',
    `endpoint "${ep.name}" (${ep.runtime}) of node ${nodeId} cannot ${what} models at run time`,
  );

/** A runtime control should throw MeshErrors; anything else is the runtime failing. */
const asMeshError = (err: unknown) => MeshError.from(err, 'upstream_error');

/** Both calls need a model and a target node. */
function requireModelAndNode(req: { model: string; nodeId: string }): void {
  if (!req.model) throw new MeshError('invalid_request', 'model is required');
  if (!req.nodeId) throw new MeshError('invalid_request', 'node_id is required');
}

/** The result of a call served on this node; `describe` words it for the endpoint id. */
function servedHere(
  deps: ModelControlDeps,
  endpoint: Endpoint,
  describe: (endpointId: string) => string,
): ModelControlResult {
  const endpointId = `${deps.nodeId}/${endpoint.name}`;
  return { success: true, message: describe(endpointId), nodeId: deps.nodeId, endpointId };
}

/** Loads here or forwards; throws `MeshError`. */
export async function loadModel(
  deps: ModelControlDeps,
  req: LoadModelRequest,
  ctx: CallContext,
): Promise<ModelControlResult> {
  requireModelAndNode(req);
  if (req.nodeId !== deps.nodeId) return forwardToNode(deps, 'loadModel', req, ctx);
  const { endpoint, control } = pickEndpoint(
    deps,
    req.endpoint,
    (ep, c) => c.control(ep.name) !== undefined && (!req.baseModel || ep.models.includes(req.baseModel)),
    req.baseModel ? `can load adapters of "${req.baseModel}"` : 'can load models at run time',
  );
  if (!control) throw cannot('load', endpoint, deps.nodeId);
  const options = {
    ...(req.source ? { source: req.source } : {}),
    ...(req.baseModel ? { baseModel: req.baseModel } : {}),
    ...(Object.keys(req.config).length > 0 ? { config: { ...req.config } } : {}),
  };
  await control.loadModel(req.model, options).catch((err: unknown) => {
    throw asMeshError(err);
  });
  return servedHere(deps, endpoint, (id) => `loaded "${req.model}" on ${id}`);
}

/** Unloads here or forwards; throws `MeshError`. */
export async function unloadModel(
  deps: ModelControlDeps,
  req: UnloadModelRequest,
  ctx: CallContext,
): Promise<ModelControlResult> {
  requireModelAndNode(req);
  if (req.nodeId !== deps.nodeId) return forwardToNode(deps, 'unloadModel', req, ctx);
  const { endpoint, control } = pickEndpoint(
    deps,
    req.endpoint,
    (ep) => ep.models.includes(req.model),
    `serves "${req.model}"`,
  );
  if (!control) throw cannot('unload', endpoint, deps.nodeId);
  await control.unloadModel(req.model).catch((err: unknown) => {
    throw asMeshError(err);
  });
  return servedHere(deps, endpoint, (id) => `unloaded "${req.model}" from ${id}`);
}
