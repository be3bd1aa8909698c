/**
 * The endpoint gate: which of a model's endpoints may take new requests, decided before the
 * scoring engine ranks them. One gate holds every reason to keep an endpoint out: its GPU is out
 * of service (quarantine, `src/signal/gpu/quarantine/endpoint-gate.ts`), its node is drained, or
 * the model is pinned to other nodes. Pins are applied last, over what the other reasons left:
 * `require` keeps only the pinned nodes' endpoints (none left → the usual `no_healthy_endpoint`);
 * `prefer` keeps only them while at least one of them is routable, and falls back to all.
 */
import type { ModelState } from '../core/types.ts';
import { NO_ROUTING_RULES, type RoutingRules, type RoutingRulesFeed } from './routing-rules.ts';

/**
 * Ids of the endpoints among `candidates` (one model's records, already limited to those the
 * request may use) that take no new request for `model`; undefined when none is closed.
 */
export type EndpointGate = (
  model: string,
  candidates: readonly ModelState[],
) => ReadonlySet<string> | undefined;

export interface EndpointGateOptions {
  /** True takes the endpoint out of routing: its GPU is quarantined or lost. */
  outOfService?: (state: ModelState) => boolean;
  /** The control plane's drains and pins; absent: none. */
  rules?: RoutingRulesFeed;
}

/** Stale state (one failed scrape) is still routable; unhealthy or unloaded is not. */
const isRoutable = (s: ModelState): boolean => s.loaded && s.health !== 'unhealthy';

interface CompiledRules {
  drained: ReadonlySet<string>;
  pins: ReadonlyMap<string, { nodes: ReadonlySet<string>; require: boolean }>;
}

/** Sets and maps once per policy change, so a pick does no list scans. */
function compile(rules: RoutingRules): CompiledRules {
  return {
    drained: new Set(rules.drains.map((d) => d.node)),
    pins: new Map(
      rules.pins.map((p) => [p.model, { nodes: new Set(p.nodes), require: p.mode === 'require' }]),
    ),
  };
}

/** The gate plus `stop`, which stops following the rules feed. */
export function createEndpointGate(options: EndpointGateOptions): EndpointGate & { stop: () => void } {
  const outOfService = options.outOfService ?? (() => false);
  let rules = compile(options.rules?.current() ?? NO_ROUTING_RULES);
  const stop = options.rules?.onChange((next) => (rules = compile(next))) ?? (() => undefined);

  const gate: EndpointGate = (model, candidates) => {
    const { drained } = rules;
    let closed: Set<string> | undefined;
    for (const s of candidates) {
      if (drained.has(s.node) || outOfService(s)) (closed ??= new Set()).add(s.endpointId);
    }
    const pin = rules.pins.get(model);
    if (!pin) return closed;
    const open = (s: ModelState) => !closed?.has(s.endpointId);
    const pinnedServes = candidates.some((s) => pin.nodes.has(s.node) && open(s) && isRoutable(s));
    if (!pin.require && !pinnedServes) return closed;
    for (const s of candidates) if (!pin.nodes.has(s.node)) (closed ??= new Set()).add(s.endpointId);
    return closed;
  };
  return Object.assign(gate, { stop });
}
