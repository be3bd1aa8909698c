/**
 * The closed sets of names the control records use, apart from their schemas (no zod here), so the
 * CLI can name event types and SLO classes without loading the validation code.
 */

export const SLO_CLASSES = ['latency', 'throughput'] as const;
export type SloClassName = (typeof SLO_CLASSES)[number];

/** What an event says happened; stored as a key of its own under `events/`. */
export const EVENT_TYPES = [
  'node_joined',
  'node_left',
  'node_unhealthy',
  'model_loaded',
  'model_unloaded',
  'model_failed',
  'policy_created',
  'policy_updated',
  'policy_deleted',
  'node_draining',
  'node_undrained',
  'gpu_quarantined',
  'gpu_released',
  'quota_exceeded',
  'tenant_created',
  'tenant_deleted',
  'apikey_created',
  'apikey_revoked',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
