import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { bind } from '../../../core/listen.ts';
import { parseDcgmMetrics } from './parse.ts';
import { createDcgmSource } from './source.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ctx = { node: 'n1', now: 7 };

test('dcgm-exporter 2.x (T4): units converted, FB MiB to bytes, throttle mask decoded', () => {
  const [t4, other] = parseDcgmMetrics(fixture('dcgm-exporter-2x.t4.prom'), ctx);
  assert.deepEqual(t4, {
    uuid: 'GPU-20c56d28-0da5-6d26-a36a-e7af1ce2586e',
    index: 0,
    name: 'Tesla T4',
    node: 'n1',
    healthy: true,
    updatedAt: 7,
    source: 'dcgm',
    smClockMHz: 300,
    temperatureC: 25,
    powerWatts: 8.969,
    smUtilization: 0,
    memoryUtilization: 0,
    memoryUsedBytes: 0,
    memoryTotalBytes: 15109 * 1024 * 1024,
  });
  assert.deepEqual(other!.throttleReasons, ['gpu_idle']);
});

test('MIG instances: one record per GPU_I_ID, parent UUID and profile from the labels', () => {
  const gpus = parseDcgmMetrics(fixture('dcgm-exporter-mig.a30-1g6gb.prom'), ctx);
  assert.deepEqual(
    gpus.map((g) => [g.uuid, g.parentUuid, g.migProfile, g.smClockMHz]),
    [
      [
        'GPU-265c9814-6156-355b-e589-ff2064894f16/gi3',
        'GPU-265c9814-6156-355b-e589-ff2064894f16',
        '1g.6gb',
        1440,
      ],
      [
        'GPU-265c9814-6156-355b-e589-ff2064894f16/gi4',
        'GPU-265c9814-6156-355b-e589-ff2064894f16',
        '1g.6gb',
        1440,
      ],
    ],
  );
  // PROF-only families (tensor/DRAM activity) carry no field the record holds.
  assert.deepEqual(parseDcgmMetrics(fixture('dcgm-exporter-mig.a30-2g12gb.prom'), ctx), []);
});

test('old exporters (no modelName/Hostname, empty pod labels) and the H100 page parse', () => {
  const [old] = parseDcgmMetrics(fixture('dcgm-exporter-old.prom'), ctx);
  assert.equal(old!.name, '');
  assert.equal(old!.powerWatts, 302.206);
  assert.equal(old!.smUtilization, 0.44);
  const [h100] = parseDcgmMetrics(fixture('dcgm-exporter.h100.prom'), ctx);
  assert.equal(h100!.name, 'NVIDIA H100 80GB HBM3');
});

test('XID and ECC: last XID kept when non-zero, DBE is uncorrected', () => {
  const page = [
    'DCGM_FI_DEV_XID_ERRORS{gpu="1",UUID="GPU-b",hostname="h"} 79',
    'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{gpu="1",UUID="GPU-b",hostname="h"} 2',
    'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL{gpu="1",UUID="GPU-b",hostname="h"} 5',
  ].join('\n');
  const [g] = parseDcgmMetrics(page, ctx);
  assert.equal(g!.xidLast, 79);
  assert.equal(g!.eccVolatileUncorrected, 2);
  assert.equal(g!.eccVolatileCorrected, 5);
});

test('the source scrapes a real HTTP server; a bad page or status is `unavailable`', async () => {
  let body = fixture('dcgm-exporter.h100.prom');
  let status = 200;
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  const url = `${(await bind(server, { host: '127.0.0.1', port: 0 })).url}/metrics`;
  const source = createDcgmSource({ node: 'n1', url, timeoutMs: 2000 });
  try {
    assert.equal((await source.read())[0]!.uuid, 'GPU-927d7444-b45a-7c49-8402-5e686e46a026');
    body = 'DCGM_FI_DEV_GPU_TEMP{gpu="0" 12\n';
    await assert.rejects(source.read(), { code: 'unavailable', message: /bad page/ });
    status = 503;
    await assert.rejects(source.read(), { code: 'unavailable', message: /HTTP 503/ });
  } finally {
    await source.close();
    await new Promise((r) => server.close(r));
  }
});
