// `meshd gpus` as a real process: NVML through the gcc-built stub library, the simulated source,
// and a host with no source at all (a clear message, exit status 1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let lib: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshd-gpus-'));
  lib = join(dir, 'libnvidia-ml.so.1');
  execFileSync('gcc', [
    '-shared',
    '-fPIC',
    '-O1',
    '-o',
    lib,
    join(root, 'src/signal/gpu/nvml/stub/nvml-stub.c'),
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function meshd(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/meshd.js', 'gpus', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('meshd gpus picks NVML when the library loads and prints JSON or a table', async () => {
  const json = await meshd(['-o', 'json'], { INFERMESH_NVML_LIBRARY: lib });
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as {
    source: string;
    gpus: Array<{ uuid: string; migProfile?: string }>;
  };
  assert.equal(out.source, 'nvml');
  assert.deepEqual(
    out.gpus.map((g) => g.migProfile ?? g.uuid.slice(0, 12)),
    ['GPU-676c5b46', 'GPU-11111111', '1g.10gb', '3g.40gb'],
  );
  const table = await meshd(['--source', 'nvml'], { INFERMESH_NVML_LIBRARY: lib, NO_COLOR: '1' });
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^source: nvml\n/);
  assert.match(table.stdout, /NVIDIA H100 80GB HBM3 +37%/);
});

test('meshd gpus says plainly when the host has no GPU source', async () => {
  const none = await meshd([], { INFERMESH_NVML_LIBRARY: join(dir, 'missing.so'), PATH: dir });
  assert.equal(none.code, 1);
  assert.match(
    none.stderr,
    /no GPU telemetry source on this host: NVML: cannot load .*; nvidia-smi is not on PATH; rocm-smi is not on PATH/,
  );
  const sim = await meshd(['--source', 'sim', '-o', 'json'], {});
  assert.equal(sim.code, 0, sim.stderr);
  assert.equal((JSON.parse(sim.stdout) as { source: string }).source, 'sim');
});
