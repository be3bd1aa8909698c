/**
 * The node's part of the control plane: the store the config names (embedded SQLite by default,
 * or etcd), this node's mirror of its records and their writer, the routing policy computed from
 * them, and a recorder for the events the node itself reports. Started before the other roles:
 * routing and the gpu role follow the records from the start.
 */
import { join } from 'node:path';
import { createControlRecords } from '../control/control-records.ts';
import { policyFeedOf, type PolicyFeed } from '../control/policy-feed.ts';
import type { ControlRecords } from '../control/records-service.ts';
import { openControlStore, type ControlStoreOptions } from '../control/store/open-store.ts';
import type { MeshConfig } from '../core/config.ts';
import type { Logger } from '../observability/log.ts';
import { eventRecorder, type EventRecorder } from './control-events.ts';

export interface ControlRole {
  records: ControlRecords;
  policy: PolicyFeed;
  record: EventRecorder;
  stop(): Promise<void>;
}

export async function startControlRole(config: MeshConfig, logger: Logger): Promise<ControlRole> {
  const store = await openControlStore(
    controlStoreOptions(config),
    logger.child({ component: 'control-store' }),
  );
  const log = logger.child({ component: 'control' });
  const records = await createControlRecords(store, { nodeId: config.node.id, logger: log }).catch(
    async (err: unknown) => {
      await store.close();
      throw err;
    },
  );
  return {
    records,
    policy: policyFeedOf(records.view),
    record: eventRecorder(records.writer, log),
    async stop() {
      records.view.close();
      await store.close();
    },
  };
}

/** The store the config names; the embedded file defaults to `<node.dataDir>/<node.id>/control.db`. */
function controlStoreOptions(config: MeshConfig): ControlStoreOptions {
  const { store } = config.control;
  if ('etcd' in store) return { etcd: store.etcd };
  return {
    embedded: { path: store.embedded.path ?? join(config.node.dataDir, config.node.id, 'control.db') },
  };
}
