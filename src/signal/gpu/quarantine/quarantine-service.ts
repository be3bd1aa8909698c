/**
 * `infermesh.control.v1.Quarantine` over this node's quarantine bookkeeping: list what is held,
 * release a GPU. A node without GPU telemetry serves an empty list and answers every release with
 * `not_found`, which is the truth.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';
import { MeshError } from '../../../core/errors.ts';
import {
  Quarantine as QuarantineService,
  QuarantinedGpuSchema,
  type QuarantinedGpu,
} from '../../../gen/infermesh/control/v1/quarantine_pb.js';
import type { Quarantine, QuarantineEntry } from './manager.ts';

/** A QuarantineEntry as its protobuf message. */
function quarantineEntryToProto(e: QuarantineEntry): QuarantinedGpu {
  return create(QuarantinedGpuSchema, {
    gpuUuid: e.uuid,
    node: e.node,
    reason: e.reason,
    detail: e.detail,
    since: timestampFromMs(e.since),
  });
}

/** Routes of the Quarantine service. `release` is the role's (it also refreshes the stored state). */
export function quarantineRoutes(deps: {
  quarantine?: Pick<Quarantine, 'list'>;
  release?: (uuid: string) => QuarantineEntry | undefined;
}) {
  return (router: ConnectRouter) =>
    router.service(QuarantineService, {
      listQuarantined() {
        return { gpus: (deps.quarantine?.list() ?? []).map(quarantineEntryToProto) };
      },
      release(req) {
        const uuid = req.gpuUuid.trim();
        if (!uuid) throw new MeshError('invalid_request', 'gpu_uuid is required', { param: 'gpu_uuid' });
        const released = deps.release?.(uuid);
        if (!released) throw new MeshError('not_found', `GPU ${uuid} is not quarantined on this node`);
        return { released: quarantineEntryToProto(released) };
      },
    });
}
