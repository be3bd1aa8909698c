/**
 * SWIM membership with Lifeguard's refinements (README.md). What the rest of the mesh uses:
 * `createMember` on a `Transport` and a `Clock`. Tests and simulations add `testing/` (an in-memory
 * network with loss, delay and partitions, and a whole cluster on the virtual clock).
 */
export { createMember, type Member, type MemberOptions } from './swim.ts';
export type {
  MemberEvent,
  MemberEventType,
  MemberInfo,
  MemberListener,
  MemberStats,
  MemberStatus,
} from './types.ts';
export type { ReceiveHandler, ReceiveInfo, Transport, TransportStats } from './transport.ts';
export {
  checkGossipSecurity,
  createKeyring,
  generateGossipKey,
  SEAL_OVERHEAD,
  type GossipSecurityOptions,
  type Keyring,
} from './keyring.ts';
export { createNetTransport, type NetTransport, type NetTransportOptions } from './net-transport.ts';
export { GOSSIP_SERVER_NAME, type NetTlsOptions, type TlsRefusal } from './net-tls.ts';
export { createPeerLogLimiter, type PeerLogLimiter, type PeerLogLimiterOptions } from './peer-log-limiter.ts';
export { createRealClock, createVirtualClock, type Clock, type TimerId, type VirtualClock } from './clock.ts';
export { DEFAULT_SWIM_CONFIG, resolveSwimConfig, type SwimConfig } from './config.ts';
export { decodeJsonMeta, encodeJsonMeta, PROTOCOL_VERSION } from './codec.ts';
export { createSeededRandom, type Random } from './random.ts';
