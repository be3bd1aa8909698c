/**
 * Tunables of the membership protocol, defaulting to memberlist's LAN profile, and the formulas
 * that scale them with the cluster size (memberlist's util.go and state.go, re-derived):
 * - suspicion timeout: min = suspicionMult · max(1, log10 n) · probeInterval,
 *   max = suspicionMaxTimeoutMult · min (Lifeguard shrinks from max toward min, suspicion.ts);
 * - retransmit limit of a broadcast: retransmitMult · ceil(log10(n + 1));
 * - push-pull interval: × (ceil(log2 n − log2 32) + 1) above 32 members.
 */
import { MeshError } from '../core/errors.ts';

export interface SwimConfig {
  /** Time between two probes, before local health scales it (ms). */
  probeIntervalMs: number;
  /** Wait for a direct ack before asking relays, before local health scales it (ms). */
  probeTimeoutMs: number;
  /** Relays asked to probe a target that missed its direct ack (SWIM's k). */
  indirectChecks: number;
  /** Share of the requester's remaining probe time a relay waits before it nacks (Lifeguard: < 1). */
  nackTimeoutFraction: number;
  /** Also probe over the reliable channel when the direct datagram probe fails (memberlist's TCP ping). */
  reliableProbeFallback: boolean;
  /** λ: a broadcast is sent retransmitMult · ceil(log10(n + 1)) times. */
  retransmitMult: number;
  /** α: min suspicion = α · max(1, log10 n) · probeInterval. */
  suspicionMult: number;
  /** β: max suspicion = β · min. */
  suspicionMaxTimeoutMult: number;
  /** Local health scales timing by up to this factor (health score 0 … max − 1). */
  awarenessMaxMultiplier: number;
  /** Time between two gossip rounds of pending broadcasts; 0 disables (piggybacking only) (ms). */
  gossipIntervalMs: number;
  /** Members each gossip round sends to. */
  gossipNodes: number;
  /** Members declared dead still receive gossip this long, so a live one can refute (ms). */
  gossipToTheDeadMs: number;
  /** Time between two anti-entropy push-pull exchanges with one random member; 0 disables (ms). */
  pushPullIntervalMs: number;
  /** Time between two attempts to reach one random dead member (partition healing); 0 disables (ms). */
  reconnectIntervalMs: number;
  /** Dead and left members are forgotten this long after their last change (ms). */
  reapAfterMs: number;
  /** How long `join` waits for a seed's push-pull reply (ms). */
  joinTimeoutMs: number;
  /** How long `leave` waits for its broadcast to go out before closing (ms). */
  leaveTimeoutMs: number;
  /** Largest meta a member may carry (bytes). */
  maxMetaBytes: number;
}

/** memberlist's DefaultLANConfig, plus serf's reconnect interval and tombstone time. */
export const DEFAULT_SWIM_CONFIG: Readonly<SwimConfig> = Object.freeze({
  probeIntervalMs: 1_000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  nackTimeoutFraction: 0.8,
  reliableProbeFallback: true,
  retransmitMult: 4,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  awarenessMaxMultiplier: 8,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  reconnectIntervalMs: 30_000,
  reapAfterMs: 24 * 3_600_000,
  joinTimeoutMs: 10_000,
  leaveTimeoutMs: 5_000,
  maxMetaBytes: 512,
});

/** Defaults overlaid with `partial`, checked (every problem in one `invalid_config` error), frozen. */
export function resolveSwimConfig(partial: Partial<SwimConfig> = {}): Readonly<SwimConfig> {
  const c: SwimConfig = { ...DEFAULT_SWIM_CONFIG, ...partial };
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const positive = (k: keyof SwimConfig) => check(Number(c[k]) > 0 && Number.isFinite(c[k]), `${k} > 0`);
  const nonNegative = (k: keyof SwimConfig) => check(Number(c[k]) >= 0 && Number.isFinite(c[k]), `${k} >= 0`);
  for (const k of ['probeIntervalMs', 'probeTimeoutMs', 'joinTimeoutMs', 'reapAfterMs'] as const) positive(k);
  for (const k of ['retransmitMult', 'suspicionMult', 'suspicionMaxTimeoutMult'] as const) positive(k);
  for (const k of ['indirectChecks', 'gossipIntervalMs', 'gossipNodes', 'gossipToTheDeadMs'] as const)
    nonNegative(k);
  for (const k of ['pushPullIntervalMs', 'reconnectIntervalMs', 'leaveTimeoutMs', 'maxMetaBytes'] as const)
    nonNegative(k);
  check(c.probeTimeoutMs < c.probeIntervalMs, 'probeTimeoutMs < probeIntervalMs');
  check(c.nackTimeoutFraction > 0 && c.nackTimeoutFraction < 1, '0 < nackTimeoutFraction < 1');
  check(
    Number.isInteger(c.awarenessMaxMultiplier) && c.awarenessMaxMultiplier >= 1,
    'awarenessMaxMultiplier >= 1',
  );
  check(c.suspicionMaxTimeoutMult >= 1, 'suspicionMaxTimeoutMult >= 1');
  if (problems.length > 0)
    throw new MeshError('invalid_config', `membership config: ${problems.join('; ')}`, { problems });
  return Object.freeze(c);
}

/** Lifeguard's minimum suspicion timeout for a cluster of `n` (ms). */
export function suspicionTimeoutMs(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return suspicionMult * nodeScale * probeIntervalMs;
}

/** How many times each broadcast is sent in a cluster of `n`. */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** The push-pull interval for a cluster of `n`: unchanged up to 32 members, then stretched. */
export function pushPullIntervalMs(intervalMs: number, n: number): number {
  if (n <= 32) return intervalMs;
  return intervalMs * (Math.ceil(Math.log2(n) - Math.log2(32)) + 1);
}
