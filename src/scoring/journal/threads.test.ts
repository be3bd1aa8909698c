import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { modelState } from '../../core/testing/model-state.ts';
import { createScoringEngine } from '../engine.ts';
import { attachSharedJournal, createJournalMemory, journalTail } from './shared-journal.ts';
import { replicaState } from './testing/replica-state.ts';

test('four threads routing at once through one journal place as one router and end as identical replicas', async () => {
  const memory = createJournalMemory();
  const endpoints = ['a', 'b', 'c', 'd', 'e'];
  const main = createScoringEngine({ journal: attachSharedJournal(memory, 0) });
  for (const id of endpoints) main.fleet.upsert(modelState(id, { gpuType: 'H100' }));
  // Every replica reads from the start, however late its thread comes up.
  const from = journalTail(memory);
  const workers = [1, 2, 3, 4].map(
    (origin) =>
      new Worker(new URL('./testing/replica-worker.ts', import.meta.url), {
        workerData: { memory, origin, from, requests: 2000, endpoints },
      }),
  );
  const all = async (command: string) =>
    Promise.all(
      workers.map(async (w) => {
        w.postMessage(command);
        return (await once(w, 'message'))[0] as number[][];
      }),
    );
  try {
    // 8,000 decisions from four threads at once, by in-flight count alone: had any two of them
    // decided on the same state, some endpoint would hold more than its 1,600.
    await all('route');
    const routed = await all('state');
    for (const s of [...routed, replicaState(main)]) {
      assert.deepEqual(
        s.map((v) => v[0]),
        [1600, 1600, 1600, 1600, 1600],
      );
    }
    await all('finish');
    const finished = await all('state');
    const expected = replicaState(main);
    for (const s of finished) assert.deepEqual(s, expected);
    assert.deepEqual(
      expected.map((v) => v[0]),
      [0, 0, 0, 0, 0],
    );
    assert.ok(
      expected.every((v) => v[5]! > 0 && Number.isFinite(v[3]) && Number.isFinite(v[4])),
      'every replica learned the same latencies and prefix blocks',
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test('the main thread ends the open requests of a participant that went away', () => {
  const memory = createJournalMemory();
  const main = createScoringEngine({ journal: attachSharedJournal(memory, 0), trackOpen: true });
  const gone = createScoringEngine({ journal: attachSharedJournal(memory, 3) });
  for (const e of [main, gone]) e.fleet.upsert(modelState('a'));
  const view = gone.fleet.forModel('m')[0]!;
  gone.routed(view, { model: 'm', promptTokens: 10 }, 0);
  gone.routed(view, { model: 'm', promptTokens: 10 }, 0);
  main.sync();
  assert.equal(main.fleet.forModel('m')[0]!.inFlight, 2);
  main.abandon(3);
  assert.equal(main.fleet.forModel('m')[0]!.inFlight, 0);
  assert.deepEqual(replicaState(gone), replicaState(main));
});
