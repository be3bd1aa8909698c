/**
 * Test fixture: a worker thread holding one engine replica on a shared journal. On `route` it
 * routes `requests` requests (each decision exclusive, least-outstanding); on `finish` it reports
 * first tokens and ends them all; on `state` it answers with its view of the fleet.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { modelState } from '../../../core/testing/model-state.ts';
import { createScoringEngine, type RouteTicket } from '../../engine.ts';
import { attachSharedJournal } from '../shared-journal.ts';
import { replicaState } from './replica-state.ts';

const { memory, origin, from, requests, endpoints } = workerData as {
  memory: SharedArrayBuffer;
  origin: number;
  /** The journal position every replica starts from. */
  from: number;
  requests: number;
  endpoints: string[];
};
const clock = () => performance.timeOrigin + performance.now();
const engine = createScoringEngine({
  journal: attachSharedJournal(memory, origin, from),
  profile: 'least-outstanding',
  now: clock,
  random: () => 0,
});
for (const id of endpoints) engine.fleet.upsert(modelState(id, { gpuType: 'H100' }));

const open: RouteTicket[] = [];
parentPort!.on('message', (command: 'route' | 'finish' | 'state') => {
  if (command === 'route') {
    for (let i = 0; i < requests; i++) {
      const req = {
        model: 'm',
        promptTokens: 256 + (i % 7) * 64,
        maxTokens: 16,
        blockHashes: Uint32Array.of(i % 13, 99),
      };
      open.push(engine.exclusive(() => engine.routed(engine.decide(req).target, req, 0)));
    }
  } else if (command === 'finish') {
    for (const [i, t] of open.entries()) {
      engine.firstToken(t, 5 + (i % 3));
      engine.finished(t, { ok: true, e2eMs: 40 + (i % 5) });
    }
    open.length = 0;
  }
  parentPort!.postMessage(replicaState(engine));
});
