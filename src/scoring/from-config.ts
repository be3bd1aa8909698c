/** Engine options from the validated `scoring` config section. */
import type { ScoringConfig } from '../core/config.ts';
import type { ScoringEngineOptions } from './engine.ts';

export function engineOptionsFromConfig(cfg: ScoringConfig): ScoringEngineOptions {
  return {
    profile: cfg.profile,
    profiles: cfg.profiles,
    zones: { nodes: cfg.zones.nodes, links: cfg.zones.links },
    serviceRates: cfg.serviceRates,
    prefixBlockTokens: cfg.prefixBlockTokens,
    prefixCapacityBlocks: cfg.prefixCapacityBlocks,
  };
}
