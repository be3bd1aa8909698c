/** The gRPC/Connect services every meshd serves on its API port. */
import type { ConnectRouter } from '@connectrpc/connect';
import { controlPlaneRoutes } from '../control/control-plane-service.ts';
import { statePlaneRoutes } from '../signal/state/state-plane-service.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import type { NodeDirectory } from './node-directory.ts';

export function registerApiServices(
  router: ConnectRouter,
  deps: { store: StateStore; directory: NodeDirectory; nodeId: string },
): void {
  statePlaneRoutes({ store: deps.store, nodeId: deps.nodeId })(router);
  controlPlaneRoutes({ nodes: () => deps.directory.nodes(), modelStates: () => deps.store.list() })(router);
}
