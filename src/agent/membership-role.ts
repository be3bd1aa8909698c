/**
 * This node's member of the gossip mesh (`membership` in the config): binds UDP+TCP, joins through
 * the seeds (retrying in the background until one answers, so start order does not matter), keeps
 * its meta (roles, zone, API address, GPUs, models, draining) current, and leaves gracefully on
 * stop so others see `left`, not `dead`.
 */
import { X509Certificate } from 'node:crypto';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { MeshConfig } from '../core/config.ts';
import { MeshError } from '../core/errors.ts';
import type { MeshMember, NodeMeta } from '../core/types.ts';
import { MESH_VERSION } from '../core/version.ts';
import {
  checkGossipSecurity,
  createKeyring,
  createMember,
  createNetTransport,
  createRealClock,
  type Member,
  type MemberInfo,
  type NetTlsOptions,
} from '../membership/index.ts';
import type { Logger } from '../observability/log.ts';
import { parseSpiffeId } from '../security/pki/spiffe.ts';
import { verifyPeer } from '../security/pki/verify-peer.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import { decodeNodeMeta, encodeNodeMeta } from './node-meta.ts';

/** How often the node's own meta is recomputed (published only when it changed). */
const META_REFRESH_MS = 1000;
/** Join retries back off from the first delay to the cap. */
const JOIN_RETRY_MS = 1000;
const JOIN_RETRY_MAX_MS = 30_000;

/** A member as the rest of meshd sees it: the protocol's view plus the decoded node meta. */
export type GossipMember = MemberInfo & MeshMember;

export interface MembershipRole {
  readonly member: Member;
  /** `host:port` other members reach this one at. */
  readonly address: string;
  /** True once a seed answered (or there were none to ask). */
  joined(): boolean;
  members(): GossipMember[];
  /** Marks the node draining (or not) in its meta at once: graceful shutdown, or a drain by the control plane. */
  setDraining(draining: boolean): void;
  /** Leaves (others see `left`) and closes the sockets. */
  stop(): Promise<void>;
}

export interface MembershipDeps {
  store: StateStore;
  gpus: GpuStore;
  /** The node's API URL as it listens (its host may be a wildcard). */
  apiUrl: string;
  logger: Logger;
  /** The node's certificates (`security.tls`): with them gossip's TCP channel is mTLS. */
  tls?: MembershipTls | undefined;
}

/** What gossip needs of the node's TLS (the node's `LinkTls` has it). */
export interface MembershipTls {
  readonly trustDomain: string;
  /** The set in use now: read for every connection, so a renewed certificate is used at once. */
  current(): { secureContext: SecureContext; options: { cert: string; ca: string } };
}

/** A refused gossip connection is worth a log line per peer per this many ms, not one per attempt. */
const TLS_REFUSAL_LOG_MS = 60_000;

/**
 * The net transport's mTLS from the node's certificates: peers must be nodes of the trust domain.
 * Throws `invalid_config` when the node's own certificate names another node: every peer would
 * refuse what it sends over TCP (its header would not match its certificate).
 */
export function gossipTls(tls: MembershipTls, nodeId: string, logger: Logger): NetTlsOptions {
  const san = new X509Certificate(tls.current().options.cert).subjectAltName ?? '';
  const own = parseSpiffeId(/URI:([^,\s]+)/.exec(san)?.[1] ?? '');
  if (own?.kind !== 'node' || own.id !== nodeId || own.trustDomain !== tls.trustDomain)
    throw new MeshError(
      'invalid_config',
      `security.tls.cert is ${own?.spiffeId ?? 'not a mesh identity'}; gossip needs ` +
        `spiffe://${tls.trustDomain}/node/${nodeId} (node.id and the certificate must agree)`,
    );
  return {
    context: () => tls.current().secureContext,
    verify: (socket: TLSSocket) =>
      verifyPeer(socket, {
        bundle: tls.current().options.ca,
        trustDomain: tls.trustDomain,
        allowedKinds: ['node'],
      }).id,
    refusalLogIntervalMs: TLS_REFUSAL_LOG_MS,
    onRefused: (r) => logger.warn(r, 'gossip TCP connection refused: the peer certificate did not verify'),
  };
}

/** The member's view of the mesh with each member's node meta decoded. */
export function meshMembers(member: Member): GossipMember[] {
  return member.members().map((info) => ({ ...info, node: decodeNodeMeta(info.meta) }));
}

/** Splits `host:port` (`[v6]:port` too). */
export function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/** The API URL others should dial: a wildcard host is replaced by the gossip address's host. */
export function reachableApiUrl(apiUrl: string, gossipAddress: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') {
    const { host } = splitHostPort(gossipAddress);
    url.hostname = host.includes(':') ? `[${host}]` : host;
  }
  return url.origin;
}

export async function startMembership(config: MeshConfig, deps: MembershipDeps): Promise<MembershipRole> {
  const m = config.membership;
  if (m.bind === undefined) throw new Error('startMembership without membership.bind');
  const logger = deps.logger.child({ component: 'membership' });
  const bind = splitHostPort(m.bind);
  const keyring = m.keyring.length > 0 ? createKeyring(m.keyring) : undefined;
  checkGossipSecurity({ host: bind.host, keyring, insecure: m.insecure });
  if (m.insecure && !keyring) logger.warn({ bind: m.bind }, 'gossip is neither encrypted nor authenticated');

  // UDP cannot carry TLS: the keyring stays what authenticates datagrams, with or without mTLS.
  const tls = deps.tls && gossipTls(deps.tls, config.node.id, logger);
  const transport = await createNetTransport({ ...bind, advertise: m.advertise, tls });
  const apiUrl = reachableApiUrl(deps.apiUrl, transport.address);
  let draining = false;
  const nodeMeta = (): NodeMeta => {
    const gpus = deps.gpus.list({ node: config.node.id });
    const models = new Set(deps.store.list({ node: config.node.id }).map((s) => s.model));
    return {
      roles: [...config.node.roles],
      zone: config.node.zone,
      apiUrl,
      labels: { ...config.node.labels },
      gpuCount: gpus.length,
      gpuTypes: [...new Set(gpus.map((g) => g.name))].sort(),
      models: [...models].sort(),
      modelsTruncated: false,
      draining,
      version: MESH_VERSION,
    };
  };
  const member = createMember({
    id: config.node.id,
    transport,
    clock: createRealClock(),
    keyring,
    config: m.timing,
    onError: (err) => logger.warn({ err }, 'gossip handler failed'),
  });
  const encode = () => encodeNodeMeta(nodeMeta(), member.config.maxMetaBytes);
  let published = encode();
  member.setMeta(published);
  const refreshMeta = () => {
    const next = encode();
    if (Buffer.compare(next, published) === 0) return;
    published = next;
    member.setMeta(next);
  };
  const refresher = setInterval(refreshMeta, META_REFRESH_MS).unref();

  let joined = m.seeds.length === 0;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const join = (delayMs: number) => {
    member.join(m.seeds).then(
      (answered) => {
        joined = true;
        logger.info({ seeds: m.seeds, answered, members: member.members().length }, 'joined the mesh');
      },
      (err: unknown) => {
        if (stopped) return;
        const reason = err instanceof Error ? err.message : String(err);
        logger.warn({ reason, seeds: m.seeds, retryInMs: delayMs }, 'no seed answered; retrying');
        retry = setTimeout(() => join(Math.min(delayMs * 2, JOIN_RETRY_MAX_MS)), delayMs).unref();
      },
    );
  };
  if (!joined) join(JOIN_RETRY_MS);
  logger.info(
    { address: transport.address, seeds: m.seeds, encrypted: Boolean(keyring), mtls: Boolean(tls) },
    'gossip started',
  );

  return {
    member,
    address: transport.address,
    joined: () => joined,
    members: () => meshMembers(member),
    setDraining(value) {
      draining = value;
      refreshMeta();
    },
    async stop() {
      stopped = true;
      clearInterval(refresher);
      clearTimeout(retry);
      await member.leave().catch((err: unknown) => logger.warn({ err }, 'leave failed'));
      await transport.close();
    },
  };
}
