/**
 * What the membership protocol needs from a network: best-effort datagrams (UDP in production,
 * for probes and gossip) and a reliable channel (a TCP stream per message in production, for the
 * push-pull state exchange and the reliable fallback of a failed probe).
 *
 * The protocol never reads the transport-level source of a packet to reply: every packet names its
 * sender's advertised address in its header (codec.ts), so NAT, a wildcard bind or the ephemeral
 * port of a TCP client do not matter. `from` is informational (logs, counters).
 */

/** How a packet arrived. */
export interface ReceiveInfo {
  /** The transport-level source ("ip:port" for UDP, the peer of a TCP connection). Informational. */
  from: string;
  /** True when it came over the reliable channel. */
  reliable: boolean;
  /**
   * The sender's node id as its TLS certificate proved it (reliable channel with mTLS only).
   * The member drops a packet whose header names another sender.
   */
  peerId?: string;
}

/** Counters a transport keeps itself (monotonic). */
export interface TransportStats {
  /** Reliable-channel connections refused by mTLS: the peer's certificate did not verify. */
  tlsRefused: number;
}

/** Receives one whole packet (a datagram, or one message of the reliable channel). */
export type ReceiveHandler = (packet: Uint8Array, info: ReceiveInfo) => void;

export interface Transport {
  /** The address peers reach this node at, as carried in packets and member records ("host:port"). */
  readonly address: string;
  /** Largest datagram `send` carries; the protocol never builds a bigger one. */
  readonly maxPacketBytes: number;
  /** Sends one datagram, best effort: no error, no ordering, may be lost or duplicated. */
  send(to: string, packet: Uint8Array): void;
  /**
   * Delivers `data` whole and once, or fails: `done` (when given) is called exactly once, with an
   * error when `to` could not be reached in time. Never throws. `toId`, the member id expected at
   * `to` when known, lets a transport that authenticates peers refuse another node there.
   */
  sendReliable(to: string, data: Uint8Array, done?: (err?: Error) => void, toId?: string): void;
  /** Sets the one receiver of both kinds, replacing any earlier one; `undefined` detaches it. */
  onReceive(handler: ReceiveHandler | undefined): void;
  /** Its own counters, where it keeps any (the member adds them to its `stats()`). */
  stats?(): TransportStats;
}
