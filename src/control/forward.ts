/**
 * Forwarding a model-control call to the ControlPlane of the node that owns the endpoint, over the
 * Connect protocol (HTTP/1.1 JSON, like the CLI). One hop only: a forwarded call carries
 * `mesh-forwarded-by`, and a node that is not the target refuses to forward it again, so two
 * nodes with crossed peer lists cannot bounce a call between them.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import type { ConnectionOptions } from 'node:tls';
import { createConnectTransport } from '@connectrpc/connect-node';
import { ERROR_CODES, MESH_ERROR_CODE_HEADER, MeshError, type ErrorCode } from '../core/errors.ts';
import type { NodeInfo } from '../core/types.ts';
import {
  ControlPlane,
  type LoadModelRequest,
  type UnloadModelRequest,
} from '../gen/infermesh/control/v1/control_pb.js';
import type { CallContext, ModelControlResult } from './model-control.ts';

/** Header naming the node that forwarded a call. */
const FORWARDED_BY_HEADER = 'mesh-forwarded-by';
/** Deadline of a forwarded call when the client set none: loading weights can take minutes. */
const DEFAULT_FORWARD_TIMEOUT_MS = 300_000;

type Rpc = 'loadModel' | 'unloadModel';

/** Calls `rpc` on the target node's ControlPlane; the remote's error codes come back unchanged. */
export async function forwardToNode(
  deps: { nodeId: string; nodes(): NodeInfo[]; linkOptions?: (nodeId: string) => ConnectionOptions },
  rpc: Rpc,
  req: LoadModelRequest | UnloadModelRequest,
  ctx: CallContext,
): Promise<ModelControlResult> {
  const target = deps.nodes().find((n) => n.id === req.nodeId);
  if (!target) throw new MeshError('not_found', `no node "${req.nodeId}"`);
  const via = ctx.requestHeader.get(FORWARDED_BY_HEADER);
  if (via) {
    throw new MeshError(
      'not_found',
      `node ${deps.nodeId} is not "${req.nodeId}" and the call was already forwarded by ${via}`,
    );
  }
  if (!target.apiUrl) throw new MeshError('unavailable', `the API URL of node "${req.nodeId}" is not known`);
  const client = createClient(
    ControlPlane,
    createConnectTransport({
      baseUrl: target.apiUrl,
      httpVersion: '1.1',
      // No shared agent: its pooled connections and TLS sessions are keyed by address, not by the
      // identity this call expects; forwarded calls are rare enough to open their own.
      ...(deps.linkOptions ? { nodeOptions: { ...deps.linkOptions(target.id), agent: false } } : {}),
    }),
  );
  // The caller's bearer token goes along: the target node checks the caller's role itself.
  const authorization = ctx.requestHeader.get('authorization');
  const options = {
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs() ?? DEFAULT_FORWARD_TIMEOUT_MS,
    headers: { [FORWARDED_BY_HEADER]: deps.nodeId, ...(authorization ? { authorization } : {}) },
  };
  try {
    const res =
      rpc === 'loadModel'
        ? await client.loadModel(req as LoadModelRequest, options)
        : await client.unloadModel(req as UnloadModelRequest, options);
    return { success: true, message: res.message, nodeId: res.nodeId, endpointId: res.endpointId };
  } catch (err) {
    throw remoteError(err, target);
  }
}

const isErrorCode = (code: string | null): code is ErrorCode => code !== null && code in ERROR_CODES;

/** The remote's own MeshError when it sent one; otherwise what went wrong on the way. */
function remoteError(err: unknown, target: NodeInfo): MeshError {
  if (!(err instanceof ConnectError)) return MeshError.from(err, 'upstream_error');
  const code = err.metadata.get(MESH_ERROR_CODE_HEADER);
  if (isErrorCode(code)) return new MeshError(code, err.rawMessage, { node: target.id });
  if (err.code === Code.Canceled) return new MeshError('cancelled', 'the call was cancelled');
  if (err.code === Code.DeadlineExceeded)
    return new MeshError('upstream_timeout', `node "${target.id}" did not answer in time`);
  if (err.code === Code.Unavailable)
    return new MeshError(
      'unavailable',
      `cannot reach node "${target.id}" at ${target.apiUrl}: ${err.rawMessage}`,
    );
  return new MeshError('upstream_error', `node "${target.id}" answered ${Code[err.code]}: ${err.rawMessage}`);
}
