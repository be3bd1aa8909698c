/**
 * Events this node records about itself (it joined and left the mesh, its GPUs were quarantined
 * and released) and about other nodes gossip saw die or come back. Recording is best effort: the store may be unreachable (etcd without quorum),
 * and the node keeps working; the log line of each failure says what was not recorded.
 */
import type { ControlWriter } from '../control/control-writes.ts';
import type { EventType } from '../control/model/names.ts';
import { MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';
import type { Quarantine } from '../signal/gpu/quarantine/manager.ts';
import type { MembershipRole } from './membership-role.ts';

export type EventRecorder = (type: EventType, data: Record<string, string>) => Promise<void>;

/** `writer.recordEvent` that logs instead of throwing. */
export function eventRecorder(writer: Pick<ControlWriter, 'recordEvent'>, logger: Logger): EventRecorder {
  return (type, data) =>
    writer.recordEvent(type, data).catch((err: unknown) => {
      logger.warn({ event: type, data, err: MeshError.from(err).message }, 'event not recorded');
    });
}

/** Records the quarantine's `quarantined` / `released` events until the returned function is called. */
export function recordQuarantineEvents(
  quarantine: Pick<Quarantine, 'events'>,
  record: EventRecorder,
): () => void {
  const quarantined = (e: { uuid: string; node: string; reason: string; detail: string }) =>
    void record('gpu_quarantined', { gpu: e.uuid, node: e.node, reason: e.reason, detail: e.detail });
  const released = (e: { uuid: string; node: string; by: string }) =>
    void record('gpu_released', { gpu: e.uuid, node: e.node, by: e.by });
  quarantine.events.on('quarantined', quarantined);
  quarantine.events.on('released', released);
  return () => {
    quarantine.events.off('quarantined', quarantined);
    quarantine.events.off('released', released);
  };
}

/**
 * Records what gossip sees happen to other nodes: one died (`node_left`, reason `dead`: it could
 * not say goodbye itself) or came back from the dead (`node_joined`, reason `rejoined`). Every
 * member sees these; only one records each, the alive member with the lowest id (deterministic, no
 * coordination; during a partition each side's lowest records its own view).
 */
export function recordMembershipEvents(
  membership: Pick<MembershipRole, 'member' | 'members'>,
  selfId: string,
  record: EventRecorder,
): () => void {
  const recorder = () =>
    membership
      .members()
      .filter((m) => m.status === 'alive')
      .map((m) => m.id)
      .sort()[0];
  return membership.member.on((e) => {
    if (e.member.id === selfId || recorder() !== selfId) return;
    if (e.type === 'dead') void record('node_left', { node: e.member.id, reason: 'dead' });
    else if (e.type === 'join' && e.previous === 'dead')
      void record('node_joined', { node: e.member.id, reason: 'rejoined' });
  });
}
