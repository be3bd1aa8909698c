/**
 * The CLI's connection to a meshd API port: the Connect protocol over HTTP/1.1 (JSON), the same
 * requests `curl` can make, so the CLI needs no HTTP/2 and works through ordinary proxies.
 */
import { readFileSync } from 'node:fs';
import { createClient, type CallOptions, type Client, type Interceptor } from '@connectrpc/connect';
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

/** Credentials the CLI presents: a bearer token, and/or a client certificate (PEM files) for TLS. */
export interface MeshCredentials {
  token?: string;
  certFile?: string;
  keyFile?: string;
  /** CA bundle to trust for an https:// endpoint (the mesh CA). */
  caFile?: string;
}

/**
 * Clients for the ControlPlane, StatePlane and Quarantine services of the meshd at `endpoint`;
 * `onHeader` sees the response headers of every call (the freshness of read answers).
 */
export function createMeshClients(
  endpoint: string,
  timeoutMs: number,
  onHeader?: (headers: Headers) => void,
  credentials: MeshCredentials = {},
): MeshClients {
  const { token } = credentials;
  const bearer: Interceptor = (next) => (req) => {
    req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file));
  const tls = {
    cert: read(credentials.certFile),
    key: read(credentials.keyFile),
    ca: read(credentials.caFile),
  };
  const transport = createConnectTransport({
    baseUrl: endpoint,
    httpVersion: '1.1',
    interceptors: token ? [bearer] : [],
    ...(tls.cert || tls.ca ? { nodeOptions: tls } : {}),
  });
  return {
    control: createClient(ControlPlane, transport),
    state: createClient(StatePlane, transport),
    quarantine: createClient(Quarantine, transport),
    callOptions: { timeoutMs, ...(onHeader ? { onHeader } : {}) },
  };
}
