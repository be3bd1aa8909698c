/**
 * The CLI's connection to a meshd API port: the Connect protocol over HTTP/1.1 (JSON), the same
 * requests `curl` can make, so the CLI needs no HTTP/2 and works through ordinary proxies.
 */
import { createClient, type CallOptions, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { ControlPlane } from '../gen/infermesh/control/v1/control_pb.js';
import { Quarantine } from '../gen/infermesh/control/v1/quarantine_pb.js';
import { StatePlane } from '../gen/infermesh/state/v1/state_pb.js';

/** Typed clients of one endpoint plus the per-call options. */
export interface MeshClients {
  control: Client<typeof ControlPlane>;
  state: Client<typeof StatePlane>;
  quarantine: Client<typeof Quarantine>;
  /** Options for every call (the `--timeout` deadline). */
  callOptions: CallOptions;
}

/**
 * Clients for the ControlPlane, StatePlane and Quarantine services of the meshd at `endpoint`;
 * `onHeader` sees the response headers of every call (the freshness of read answers).
 */
export function createMeshClients(
  endpoint: string,
  timeoutMs: number,
  onHeader?: (headers: Headers) => void,
): MeshClients {
  const transport = createConnectTransport({ baseUrl: endpoint, httpVersion: '1.1' });
  return {
    control: createClient(ControlPlane, transport),
    state: createClient(StatePlane, transport),
    quarantine: createClient(Quarantine, transport),
    callOptions: { timeoutMs, ...(onHeader ? { onHeader } : {}) },
  };
}
