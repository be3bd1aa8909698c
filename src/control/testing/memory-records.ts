/** Control records on an in-memory embedded store (real SQLite, no file), for tests of the APIs around them. */
import { createControlRecords } from '../control-records.ts';
import type { ControlRecords } from '../records-service.ts';
import { createEmbeddedStore } from '../store/embedded.ts';

export function memoryControlRecords(nodeId = 'test-node'): Promise<ControlRecords> {
  return createControlRecords(createEmbeddedStore({ path: ':memory:' }), { nodeId });
}
