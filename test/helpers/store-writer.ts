/**
 * Child process of the durability test: writes sequential keys to an embedded store and prints
 * `ack <i> <revision>` after each write resolved, until it is killed. Each write is a transaction of
 * two keys (`seq/<i>` and `mirror/<i>`), so a torn transaction would show as one without the other.
 * Usage: node test/helpers/store-writer.ts FILE
 */
import { createEmbeddedStore } from '../../src/control/store/embedded.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: store-writer.ts FILE');
const store = createEmbeddedStore({ path: file });
// Continue after the last key the previous (killed) writer left.
let i = (await store.list('seq/')).entries.length;
process.stdout.write('ready\n');
for (;;) {
  const key = String(i).padStart(8, '0');
  const { revision } = await store.txn(
    [{ key: `seq/${key}`, exists: false }],
    [
      { put: `seq/${key}`, value: JSON.stringify(i) },
      { put: `mirror/${key}`, value: JSON.stringify({ i }) },
    ],
  );
  // Pipes are written synchronously on Linux: once this returns, the parent has the line.
  process.stdout.write(`ack ${i} ${revision}\n`);
  i++;
}
