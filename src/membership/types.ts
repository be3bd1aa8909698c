/** What the membership module tells the rest of the mesh: members, events, counters. */
import type { MemberStatus } from './codec.ts';

export type { MemberStatus } from './codec.ts';

/** One member as this node sees it (a snapshot; `meta` is shared, treat it as read-only). */
export interface MemberInfo {
  readonly id: string;
  /** Where it is reached ("host:port" as its transport advertises it). */
  readonly address: string;
  readonly status: MemberStatus;
  /** Its own counter: it bumps it to refute a suspicion or to publish new meta. */
  readonly incarnation: number;
  /** Opaque node metadata (at most `maxMetaBytes`); `encodeJsonMeta` for a small object. */
  readonly meta: Uint8Array;
  /** Clock time of its last change of status (ms). */
  readonly since: number;
}

/**
 * - `join`: a member appeared, or came back from dead/left (with a higher incarnation);
 * - `update`: a known live member changed address or meta, or refuted a suspicion (suspect → alive);
 * - `suspect`: a live member is suspected (it has until its suspicion timeout to refute);
 * - `dead`: a member failed (suspicion ran out, or another member said so);
 * - `leave`: a member left gracefully.
 * Events are about other members only; this node's own changes are not reported.
 */
export type MemberEventType = 'join' | 'update' | 'suspect' | 'dead' | 'leave';

export interface MemberEvent {
  type: MemberEventType;
  member: MemberInfo;
  /** Its status before, undefined for a member never seen. */
  previous: MemberStatus | undefined;
}

export type MemberListener = (event: MemberEvent) => void;

/** Counters of one member's protocol activity (monotonic). */
export interface MemberStats {
  packetsReceived: number;
  /** Packets that failed to decode: dropped. */
  badPackets: number;
  /** Packets no key of the member's keyring opened (another cluster, a stale key, tampering): dropped. */
  unauthenticated: number;
  /**
   * Reliable-channel connections refused by mTLS (the transport's count): a peer certificate of
   * another CA, expired, not a node of the trust domain, or not the node dialled.
   */
  tlsRefused: number;
  /** Reliable messages whose header names a sender other than the node its TLS certificate proved: dropped. */
  peerMismatches: number;
  /** Messages of unknown types, skipped. */
  unknownMessages: number;
  /** Exceptions thrown while handling a decoded packet (or by a listener): caught, counted. */
  handlerErrors: number;
  packetsSent: number;
  probes: number;
  /** Probes that got no ack directly in time. */
  indirectProbes: number;
  /** Probes that got no ack at all: the target was suspected. */
  failedProbes: number;
  /** Probes saved by the reliable fallback alone (datagrams to the target are being lost). */
  reliableProbeAcks: number;
  nacksReceived: number;
  /** Nacks expected from relays that did not come in time (each raises the health score). */
  nacksMissed: number;
  /** Times this node refuted a suspicion (or a death) of itself. */
  refutations: number;
  pushPulls: number;
  pushPullFailures: number;
}
