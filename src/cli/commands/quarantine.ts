/** `mesh quarantine list` and `mesh quarantine release UUID`: the GPU quarantine of the endpoint's meshd. */
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { QuarantinedGpu } from '../../gen/infermesh/control/v1/quarantine_pb.js';
import type { MeshClients } from '../client.ts';
import { isoOrNull, type TableView } from '../output.ts';

/** One quarantined GPU in `-o json|yaml` output. */
export interface QuarantineRow {
  gpuUuid: string;
  node: string;
  reason: string;
  detail: string;
  /** ISO time it was quarantined. */
  since: string | null;
}

const row = (g: QuarantinedGpu): QuarantineRow => ({
  gpuUuid: g.gpuUuid,
  node: g.node,
  reason: g.reason,
  detail: g.detail,
  since: isoOrNull(g.since ? timestampMs(g.since) : 0),
});

/** Calls Quarantine.ListQuarantined. */
export async function listQuarantined(
  clients: MeshClients,
): Promise<{ data: { gpus: QuarantineRow[] }; view: TableView }> {
  const res = await clients.quarantine.listQuarantined({}, clients.callOptions);
  const gpus = res.gpus.map(row);
  return {
    data: { gpus },
    view: {
      head: ['GPU', 'NODE', 'REASON', 'DETAIL', 'SINCE'],
      rows: gpus.map((g) => [g.gpuUuid, g.node, g.reason, g.detail, g.since ?? '-']),
      footer: [`${gpus.length} quarantined`],
    },
  };
}

/** Calls Quarantine.Release for one GPU UUID. */
export async function releaseGpu(
  clients: MeshClients,
  uuid: string,
): Promise<{ data: { released: QuarantineRow | null }; view: TableView }> {
  const res = await clients.quarantine.release({ gpuUuid: uuid }, clients.callOptions);
  const released = res.released ? row(res.released) : null;
  return {
    data: { released },
    view: {
      head: ['RELEASED', 'NODE', 'WAS', 'SINCE'],
      rows: released ? [[released.gpuUuid, released.node, released.reason, released.since ?? '-']] : [],
    },
  };
}
