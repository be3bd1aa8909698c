/**
 * SLO classes as the control plane's `slo` policies and tenants set them. A request's class is its
 * `x-mesh-slo-class` header, else its tenant's default class (`x-mesh-tenant`), else `latency`.
 * The rule for (class, model) is the one that names the model, else one with no models; among
 * equals the first by policy name (code-unit order), so every router picks the same one. What it
 * sets — hedging, admission's longest wait, the deadline without a client timeout, scorer weights —
 * is resolved into one settings object per rule when the rules change: a request does two map
 * lookups and reads fields.
 */
import type { HedgingConfig } from '../core/config.ts';
import type { ScorerWeights, SloClass } from '../scoring/types.ts';
import { hedgeClassPolicy, type HedgeClassPolicy } from './hedge.ts';
import { NO_ROUTING_RULES, type RoutingRules, type SloRule } from './routing-rules.ts';

/** What the applicable rule makes of a request's class for its model; absent fields: config's. */
export interface SloSettings {
  readonly sloClass: SloClass;
  /** The SLO policy these come from; absent when none applies. */
  readonly policy?: string;
  /** The class's hedging with the rule's knobs and TTFT cap applied. */
  readonly hedge?: HedgeClassPolicy;
  /** Admission's longest predicted wait for the class (`admission.maxWaitMs`). */
  readonly maxWaitMs?: number;
  /** The request's deadline (ms) when the client gave no `x-mesh-timeout-ms`. */
  readonly e2eMs?: number;
  /** Scorer weights over the profile's for the class; one object per rule (the engine caches by it). */
  readonly weights?: ScorerWeights;
}

/** The rules compiled for lookups. */
export interface SloRules {
  /** The request's class: `header` (a valid `x-mesh-slo-class`), else the tenant's default, else latency. */
  classOf(header: SloClass | undefined, tenant: string | undefined): SloClass;
  /** The settings for requests of `sloClass` for `model` (a shared, frozen object). */
  settings(sloClass: SloClass, model: string): SloSettings;
}

/** The rules a router thread follows now; `use` swaps them in (`router-policy.ts` does, per change). */
export interface SloRouting extends SloRules {
  use(rules: RoutingRules): void;
}

const CLASSES: readonly SloClass[] = ['latency', 'throughput'];
/** Code-unit order: the same on every router, whatever its locale. */
const byName = (a: SloRule, b: SloRule) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0);

/**
 * Compiles `rules`' SLO rules and tenants' default classes; `hedging` (`router.hedging`) is the
 * base a rule's hedging knobs override (without it, rules change no hedging).
 */
export function compileSloRules(rules: RoutingRules, hedging?: HedgingConfig): SloRules {
  const tenants = new Map<string, SloClass>();
  for (const [id, t] of Object.entries(rules.tenants))
    if (t.defaultSloClass) tenants.set(id, t.defaultSloClass);
  const none = {
    latency: Object.freeze({ sloClass: 'latency' }),
    throughput: Object.freeze({ sloClass: 'throughput' }),
  } satisfies Record<SloClass, SloSettings>;
  const general: Record<SloClass, SloSettings> = { ...none };
  const specific: Record<SloClass, Map<string, SloSettings>> = { latency: new Map(), throughput: new Map() };
  const haveGeneral = new Set<SloClass>();
  for (const rule of [...rules.slo].sort(byName)) {
    if (!CLASSES.includes(rule.class)) continue;
    const settings = settingsOf(rule, hedging);
    if (rule.models.length === 0) {
      if (haveGeneral.has(rule.class)) continue;
      haveGeneral.add(rule.class);
      general[rule.class] = settings;
    }
    for (const model of rule.models) {
      if (!specific[rule.class].has(model)) specific[rule.class].set(model, settings);
    }
  }
  return {
    classOf: (header, tenant) =>
      header ?? (tenant === undefined ? undefined : tenants.get(tenant)) ?? 'latency',
    settings: (sloClass, model) => specific[sloClass].get(model) ?? general[sloClass],
  };
}

function settingsOf(rule: SloRule, hedging: HedgingConfig | undefined): SloSettings {
  const changesHedging = rule.hedging !== undefined || rule.ttftMs !== undefined;
  const weights = rule.weights && Object.keys(rule.weights).length > 0 ? rule.weights : undefined;
  return Object.freeze({
    sloClass: rule.class,
    policy: rule.policy,
    ...(hedging && changesHedging
      ? { hedge: Object.freeze(hedgeClassPolicy(hedging, rule.class, rule.hedging, rule.ttftMs)) }
      : {}),
    ...(rule.admission?.maxWaitMs !== undefined ? { maxWaitMs: rule.admission.maxWaitMs } : {}),
    ...(rule.e2eMs !== undefined ? { e2eMs: rule.e2eMs } : {}),
    ...(weights ? { weights: Object.freeze({ ...weights }) } : {}),
  });
}

/** Rules that start empty (every request: its header's class or latency, config's settings). */
export function createSloRouting(hedging?: HedgingConfig): SloRouting {
  let current = compileSloRules(NO_ROUTING_RULES, hedging);
  return {
    classOf: (header, tenant) => current.classOf(header, tenant),
    settings: (sloClass, model) => current.settings(sloClass, model),
    use(rules) {
      current = compileSloRules(rules, hedging);
    },
  };
}
