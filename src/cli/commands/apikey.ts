/** `mesh apikey create|list|revoke`: tenants' API keys for inference requests. */
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { ApiKey } from '../../gen/infermesh/control/v1/control_pb.js';
import type { MeshClients } from '../client.ts';
import { isoOrNull, type TableView } from '../output.ts';
import type { CommandResult } from '../runner.ts';

/** Options of `mesh apikey create`. */
export interface CreateApiKeyOptions {
  tenant: string;
  name?: string;
}

/** Options of `mesh apikey list`. */
export interface ListApiKeysOptions {
  tenant?: string;
}

/** One key in `-o json|yaml` output: never its secret (only `create` prints that, once). */
export interface ApiKeyRow {
  keyId: string;
  tenant: string;
  name: string;
  createdAt: string | null;
  revision: number;
}

const row = (k: ApiKey): ApiKeyRow => ({
  keyId: k.keyId,
  tenant: k.tenant,
  name: k.name,
  createdAt: isoOrNull(k.createdAt ? timestampMs(k.createdAt) : 0),
  revision: Number(k.revision),
});

const view = (keys: ApiKeyRow[], footer?: string[]): TableView => ({
  head: ['KEY ID', 'TENANT', 'NAME', 'CREATED', 'REVISION'],
  rows: keys.map((k) => [k.keyId, k.tenant, k.name || '-', k.createdAt ?? '-', k.revision]),
  ...(footer ? { footer } : {}),
});

/** Calls ControlPlane.CreateApiKey and prints the key: the one time it can be seen. */
export async function createApiKey(clients: MeshClients, opts: CreateApiKeyOptions): Promise<CommandResult> {
  const res = await clients.control.createApiKey(
    { tenant: opts.tenant, name: opts.name ?? '' },
    clients.callOptions,
  );
  const apiKey = res.apiKey ? row(res.apiKey) : null;
  return {
    data: { apiKey, secret: res.secret },
    view: view(apiKey ? [apiKey] : [], [
      '',
      `API key: ${res.secret}`,
      'Store it now: it cannot be shown again (the mesh keeps only a hash of it).',
      'Clients send it as "Authorization: Bearer <key>".',
    ]),
  };
}

/** Calls ControlPlane.ListApiKeys (ids, names, tenants; no secrets). */
export async function listApiKeys(clients: MeshClients, opts: ListApiKeysOptions): Promise<CommandResult> {
  const res = await clients.control.listApiKeys({ tenant: opts.tenant ?? '' }, clients.callOptions);
  const apiKeys = res.apiKeys.map(row);
  return { data: { apiKeys }, view: view(apiKeys) };
}

/** Calls ControlPlane.RevokeApiKey: routers refuse the key once their mirror has the change. */
export async function revokeApiKey(clients: MeshClients, keyId: string): Promise<CommandResult> {
  await clients.control.revokeApiKey({ keyId }, clients.callOptions);
  return {
    data: { keyId, revoked: true },
    view: { head: ['KEY ID', 'ACTION'], rows: [[keyId, 'revoked']] },
  };
}
