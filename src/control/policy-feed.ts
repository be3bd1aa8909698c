/**
 * The routing policy as a feed: the current value and a way to hear when it changes. meshd makes
 * one from its control mirror; router worker threads get a copy over their port.
 */
import type { ControlView } from './control-view.ts';
import { EMPTY_ROUTING_POLICY, routingPolicyOf, type RoutingPolicy } from './routing-policy.ts';

export interface PolicyFeed {
  current(): RoutingPolicy;
  /** Called with every new policy; returns the unsubscribe function. */
  onChange(listener: (policy: RoutingPolicy) => void): () => void;
}

/** The feed of a control mirror: recomputed once per change of the mirror. */
export function policyFeedOf(view: ControlView): PolicyFeed {
  let current = routingPolicyOf(view.snapshot());
  const listeners = new Set<(p: RoutingPolicy) => void>();
  view.onChange((s) => {
    current = routingPolicyOf(s);
    for (const l of listeners) l(current);
  });
  return {
    current: () => current,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A feed whose value is set by hand (router worker threads; tests). */
export function createPolicyFeed(initial: RoutingPolicy = EMPTY_ROUTING_POLICY): PolicyFeed & {
  set(policy: RoutingPolicy): void;
} {
  let current = initial;
  const listeners = new Set<(p: RoutingPolicy) => void>();
  return {
    current: () => current,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(policy) {
      current = policy;
      for (const l of listeners) l(policy);
    },
  };
}
