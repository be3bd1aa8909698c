/**
 * The control store as a node uses it: the store, this node's mirror of its records and the writer
 * that changes them (meshd builds one per node; tests build one on an in-memory embedded store).
 */
import type { Logger } from '../observability/log.ts';
import { createControlView } from './control-view.ts';
import { createControlWriter } from './control-writes.ts';
import type { ControlRecords } from './records-service.ts';
import type { ControlStore } from './store/types.ts';

export async function createControlRecords(
  store: ControlStore,
  o: { nodeId: string; logger?: Logger },
): Promise<ControlRecords> {
  const view = await createControlView(store, { logger: o.logger });
  return { store, view, writer: createControlWriter({ store, nodeId: o.nodeId }) };
}
