// The long-running nvidia-smi mode against a fake `nvidia-smi` (a shell script) that prints the
// verbatim H100 rows every 100 ms, as `-lms 100` does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNvidiaSmiSource } from './source.ts';

const rows = fileURLToPath(new URL('./fixtures/nvidia-smi-lms.h100.csv', import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-smi-'));
  const script = join(dir, 'nvidia-smi');
  writeFileSync(
    script,
    `#!/bin/sh
# Checks it was asked for CSV rows in a loop, then prints one verbatim row per period.
case "$*" in *--format=csv,noheader,nounits*-lms*) ;; *) echo "unexpected: $*" >&2; exit 2;; esac
while read -r line; do echo "$line"; sleep 0.1; done < '${rows}'
while true; do tail -n 1 '${rows}'; sleep 0.1; done
`,
  );
  chmodSync(script, 0o755);
  writeFileSync(
    join(dir, 'broken-smi'),
    '#!/bin/sh\necho "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2\nexit 9\n',
  );
  chmodSync(join(dir, 'broken-smi'), 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('rows stream in from one long-running child; read returns the latest per GPU', async () => {
  const source = createNvidiaSmiSource({ node: 'n1', command: join(dir, 'nvidia-smi'), intervalMs: 100 });
  try {
    const [first] = await source.read();
    assert.equal(first!.uuid, 'GPU-4a1de4d7-d2f8-4ca2-5c8e-1e6aa7060cf0');
    assert.equal(first!.source, 'nvidia-smi');
    // A newer row replaces it once the child prints one (bounded wait: a loaded machine is slow).
    let [later] = await source.read();
    for (let i = 0; i < 100 && later!.updatedAt <= first!.updatedAt; i++) {
      await new Promise((r) => setTimeout(r, 50));
      [later] = await source.read();
    }
    assert.notEqual(later!.powerWatts, undefined);
    assert.ok(later!.updatedAt > first!.updatedAt);
  } finally {
    await source.close();
  }
});

test('a failing or missing nvidia-smi is an `unavailable` error with its own words', async () => {
  const broken = createNvidiaSmiSource({
    node: 'n1',
    command: join(dir, 'broken-smi'),
    firstRowTimeoutMs: 300,
    restartDelayMs: 50,
  });
  try {
    await assert.rejects(broken.read(), {
      code: 'unavailable',
      message: /couldn't communicate with the NVIDIA driver/,
    });
  } finally {
    await broken.close();
  }
  const missing = createNvidiaSmiSource({ node: 'n1', command: join(dir, 'nope'), firstRowTimeoutMs: 200 });
  try {
    await assert.rejects(missing.read(), { code: 'unavailable', message: /not on PATH/ });
  } finally {
    await missing.close();
  }
});
