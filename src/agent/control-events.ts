/**
 * Events this node records about itself: it joined and left the mesh, its GPUs were quarantined
 * and released. Recording is best effort: the store may be unreachable (etcd without quorum),
 * and the node keeps working; the log line of each failure says what was not recorded.
 */
import type { ControlWriter } from '../control/control-writes.ts';
import type { EventType } from '../control/model/names.ts';
import { MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';
import type { Quarantine } from '../signal/gpu/quarantine/manager.ts';

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
