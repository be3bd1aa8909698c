// Drives the real NVML adapter through koffi against a stub libnvidia-ml.so.1 built here with gcc
// (stub/nvml-stub.c): known values for an H100 and an A100 with two MIG instances, errors on demand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeshError } from '../../../core/errors.ts';
import { createNvmlSource } from './adapter.ts';

const stubSource = fileURLToPath(new URL('./stub/nvml-stub.c', import.meta.url));
let dir: string;
let lib: string;
let libNoV2: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvml-stub-'));
  lib = join(dir, 'libnvidia-ml.so.1');
  // A second copy in its own directory: the loader keys libraries by path, so this one is distinct.
  mkdirSync(join(dir, 'old'));
  libNoV2 = join(dir, 'old', 'libnvidia-ml.so.1');
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', lib, stubSource]);
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-DNVML_STUB_NO_MEMORY_V2', '-o', libNoV2, stubSource]);
});
after(() => {
  delete process.env.NVML_STUB_FAIL;
  rmSync(dir, { recursive: true, force: true });
});

test('reads every GPU with units converted, the throttle mask decoded and MIG instances', async () => {
  const source = await createNvmlSource({ node: 'n1', libraryPath: lib, now: () => 1000 });
  try {
    assert.equal(source.memoryApi, 'v2');
    const gpus = await source.read();
    assert.equal(gpus.length, 4);
    const [h100, a100, mig1, mig2] = gpus;
    assert.deepEqual(h100, {
      uuid: 'GPU-676c5b46-e845-dea5-ed46-856c61d9f30f',
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      node: 'n1',
      healthy: true,
      updatedAt: 1000,
      source: 'nvml',
      smUtilization: 0.37,
      memoryUtilization: 0.12,
      memoryTotalBytes: 81559 * 1024 * 1024,
      // v2: the 480 MiB driver reservation is not "used" (nvidia-smi's view).
      memoryUsedBytes: 1024 * 1024 * 1024,
      temperatureC: 44,
      powerWatts: 127.32,
      powerLimitWatts: 700,
      smClockMHz: 1980,
      throttleReasons: ['gpu_idle'],
      eccVolatileUncorrected: 0,
      eccVolatileCorrected: 0,
      migMode: false,
    });
    assert.equal(a100!.migMode, true);
    assert.deepEqual(a100!.throttleReasons, ['sw_power_cap', 'hw_thermal_slowdown']);
    assert.equal(a100!.smUtilization, undefined, 'not supported in MIG mode: absent, not 0');
    assert.equal(a100!.eccVolatileCorrected, 3);
    assert.equal(mig1!.uuid, 'MIG-aaaaaaaa-bbbb-cccc-dddd-000000000001');
    assert.equal(mig1!.parentUuid, a100!.uuid);
    assert.equal(mig1!.migProfile, '1g.10gb');
    assert.equal(mig1!.memoryUsedBytes, 2048 * 1024 * 1024);
    assert.equal(mig1!.temperatureC, undefined);
    assert.equal(mig2!.migProfile, '3g.40gb');
  } finally {
    await source.close();
    await source.close();
  }
});

test('falls back to nvmlDeviceGetMemoryInfo (v1) on a driver without _v2', async () => {
  const source = await createNvmlSource({ node: 'n1', libraryPath: libNoV2 });
  try {
    assert.equal(source.memoryApi, 'v1');
    const [h100] = await source.read();
    // v1 counts the reservation as used.
    assert.equal(h100!.memoryUsedBytes, (1024 + 480) * 1024 * 1024);
  } finally {
    await source.close();
  }
});

test('a failing call leaves its field absent; GPU_IS_LOST marks the GPU unhealthy', async () => {
  const source = await createNvmlSource({ node: 'n1', libraryPath: lib });
  try {
    process.env.NVML_STUB_FAIL = 'nvmlDeviceGetTemperature';
    const [h100] = await source.read();
    assert.equal(h100!.temperatureC, undefined);
    assert.equal(h100!.powerWatts, 127.32);
    assert.equal(h100!.healthy, true);
    process.env.NVML_STUB_FAIL = 'lost';
    const gpus = await source.read();
    assert.ok(gpus.every((g) => !g.healthy));
    process.env.NVML_STUB_FAIL = 'nvmlDeviceGetCount_v2';
    await assert.rejects(source.read(), (err: unknown) => {
      assert.ok(err instanceof MeshError);
      assert.equal(err.code, 'unavailable');
      assert.match(err.message, /nvmlDeviceGetCount_v2 failed: Unknown Error \(999\)/);
      return true;
    });
  } finally {
    delete process.env.NVML_STUB_FAIL;
    await source.close();
  }
});

test('nvmlInit_v2 failing and a missing library are clear `unavailable` errors', async () => {
  process.env.NVML_STUB_FAIL = 'nvmlInit_v2';
  try {
    await assert.rejects(createNvmlSource({ node: 'n1', libraryPath: lib }), {
      name: 'MeshError',
      code: 'unavailable',
      message: 'NVML: nvmlInit_v2 failed: Driver Not Loaded (9)',
    });
  } finally {
    delete process.env.NVML_STUB_FAIL;
  }
  await assert.rejects(
    createNvmlSource({ node: 'n1', libraryPath: join(dir, 'nope', 'libnvidia-ml.so.1') }),
    {
      code: 'unavailable',
      message: /NVML: cannot load .*no NVIDIA driver/,
    },
  );
});
