// The embedded store under kill -9: a child writes and prints each acknowledged revision; the parent
// kills it at random moments, reopens the file and checks that every acknowledged write is there,
// that no transaction is torn and that the revisions have no holes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedStore } from '../src/control/store/embedded.ts';

const root = new URL('../', import.meta.url).pathname;
const ROUNDS = 8;

/** Runs the writer until it has acknowledged some writes, then kills it after a random delay. */
async function writeUntilKilled(file: string): Promise<Map<number, number>> {
  const child = spawn(process.execPath, ['test/helpers/store-writer.ts', file], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 15_000;
  while (!out.includes('ack ')) {
    if (child.exitCode !== null) throw new Error(`writer exited early (${child.exitCode}):\n${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`writer acknowledged nothing in 15 s:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 300));
  child.kill('SIGKILL');
  await exited;
  const acks = new Map<number, number>();
  // Only whole lines count: a line cut by the kill was not seen as acknowledged.
  for (const line of out.split('\n').slice(0, -1)) {
    const m = /^ack (\d+) (\d+)$/.exec(line);
    if (m) acks.set(Number(m[1]), Number(m[2]));
  }
  return acks;
}

test(
  'embedded store: kill -9 at random moments loses no acknowledged write',
  { timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-durability-'));
    const file = join(dir, 'control.db');
    const acked = new Map<number, number>();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, rev] of await writeUntilKilled(file)) acked.set(i, rev);
        const store = createEmbeddedStore({ path: file });
        try {
          const seq = (await store.list('seq/')).entries;
          const mirror = (await store.list('mirror/')).entries;
          const byIndex = new Map(seq.map((e) => [Number(e.value), e]));
          for (const [i, rev] of acked) {
            const entry = byIndex.get(i);
            assert.ok(entry, `round ${round}: acknowledged write ${i} (revision ${rev}) is missing`);
            assert.equal(entry.modRevision, rev, `round ${round}: write ${i} has the wrong revision`);
          }
          // No torn transaction: every seq key has its mirror, written at the same revision.
          assert.equal(mirror.length, seq.length, `round ${round}: torn transaction`);
          seq.forEach((e, k) => assert.equal(mirror[k]!.modRevision, e.modRevision));
          // Revisions are 1..N without holes, one per transaction, in key order.
          assert.deepEqual(
            seq.map((e) => e.modRevision),
            seq.map((_, k) => k + 1),
          );
          assert.equal(store.health().revision, seq.length);
        } finally {
          await store.close();
        }
      }
      assert.ok(acked.size >= ROUNDS, `only ${acked.size} writes acknowledged`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
