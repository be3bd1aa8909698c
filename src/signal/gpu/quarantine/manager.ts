/**
 * Quarantine bookkeeping for one node's GPUs: every reading passes through `observe`, which
 * applies the policy, marks quarantined GPUs (`healthy: false`, `quarantineReason`) and emits
 * `quarantined` / `released` events. A GPU leaves quarantine only through `release` (the operator)
 * or, when the policy has a cool-down, once the cool-down has passed and its cause is gone.
 */
import { EventEmitter } from 'node:events';
import type { GpuQuarantineConfig } from '../../../core/config.ts';
import type { GpuState } from '../../../core/gpu.ts';
import { evaluate, trackThrottle, type GpuHistory, type QuarantineReason } from './policy.ts';

/** One quarantined GPU. */
export interface QuarantineEntry {
  uuid: string;
  node: string;
  reason: QuarantineReason;
  detail: string;
  /** Unix ms it was quarantined. */
  since: number;
}

/** Payload of a `released` event. */
export interface ReleaseEvent extends QuarantineEntry {
  by: 'operator' | 'cool-down';
  at: number;
}

export interface QuarantineEvents {
  quarantined: [QuarantineEntry];
  released: [ReleaseEvent];
}

export interface Quarantine {
  /** Applies the policy to one reading of every GPU; returns the records as they should be stored. */
  observe(states: readonly GpuState[]): GpuState[];
  /** Releases a GPU (operator command); undefined when it was not quarantined. */
  release(uuid: string): ReleaseEvent | undefined;
  list(): QuarantineEntry[];
  get(uuid: string): QuarantineEntry | undefined;
  readonly events: EventEmitter<QuarantineEvents>;
}

export function createQuarantine(options: { policy: GpuQuarantineConfig; now?: () => number }): Quarantine {
  const now = options.now ?? Date.now;
  const policy = options.policy;
  const entries = new Map<string, QuarantineEntry>();
  const histories = new Map<string, GpuHistory>();
  const lastSeen = new Map<string, GpuState>();
  const events = new EventEmitter<QuarantineEvents>();

  const historyOf = (s: GpuState): GpuHistory => {
    let h = histories.get(s.uuid);
    if (!h) {
      // Baselines start at zero: a GPU that already carries uncorrected errors since the driver
      // loaded, or a critical XID, is quarantined at first sight.
      h = { throttleSince: new Map() };
      histories.set(s.uuid, h);
    }
    return h;
  };

  /** Moves the baselines to the GPU's latest counts, so what was acknowledged does not re-trigger. */
  const acknowledge = (uuid: string) => {
    const s = lastSeen.get(uuid);
    const h = histories.get(uuid);
    if (!s || !h) return;
    h.eccBaseline = s.eccVolatileUncorrected ?? h.eccBaseline;
    h.xidBaseline = s.xidLast ?? h.xidBaseline;
    h.throttleSince.clear();
  };

  const release = (uuid: string, by: ReleaseEvent['by']): ReleaseEvent | undefined => {
    const entry = entries.get(uuid);
    if (!entry) return undefined;
    entries.delete(uuid);
    acknowledge(uuid);
    const event: ReleaseEvent = { ...entry, by, at: now() };
    events.emit('released', event);
    return event;
  };

  const mark = (s: GpuState, entry: QuarantineEntry): GpuState => ({
    ...s,
    healthy: false,
    quarantineReason: `${entry.reason}: ${entry.detail}`,
  });

  return {
    events,
    observe(states) {
      const t = now();
      return states.map((s) => {
        lastSeen.set(s.uuid, s);
        const h = historyOf(s);
        trackThrottle(s, h, t);
        const existing = entries.get(s.uuid);
        if (existing) {
          if (policy.coolDownMs > 0 && t - existing.since >= policy.coolDownMs) {
            // Judge the reading as if the old cause had been acknowledged: only a live cause keeps it in.
            const probe: GpuHistory = {
              eccBaseline: s.eccVolatileUncorrected ?? h.eccBaseline,
              xidBaseline: s.xidLast ?? h.xidBaseline,
              throttleSince: h.throttleSince,
            };
            if (!evaluate(s, policy, probe, t)) {
              release(s.uuid, 'cool-down');
              return s;
            }
          }
          return mark(s, existing);
        }
        const verdict = evaluate(s, policy, h, t);
        if (!verdict) return s;
        const entry: QuarantineEntry = { uuid: s.uuid, node: s.node, ...verdict, since: t };
        entries.set(s.uuid, entry);
        events.emit('quarantined', entry);
        return mark(s, entry);
      });
    },
    release: (uuid) => release(uuid, 'operator'),
    list: () => [...entries.values()].sort((a, b) => a.since - b.since || a.uuid.localeCompare(b.uuid)),
    get: (uuid) => entries.get(uuid),
  };
}
