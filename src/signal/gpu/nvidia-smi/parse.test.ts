import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cell, numberCell, parseQueryCsv, rowToGpuState, QUERY_FIELDS } from './csv.ts';
import { migStates, parseListGpus, parseMigDevicesXml } from './xml.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ctx = { node: 'n1', now: 5 };

test('the verbatim H100 CSV with header and units', () => {
  const [gpu, ...rest] = parseQueryCsv(fixture('nvidia-smi-query.h100.csv'), ctx);
  assert.equal(rest.length, 0);
  assert.deepEqual(gpu, {
    uuid: 'GPU-7bae4f3f-c583-a5a0-87ea-25c8906ad4e3',
    index: 0,
    name: 'NVIDIA H100 80GB HBM3',
    node: 'n1',
    smUtilization: 0,
    memoryUtilization: 0,
    memoryUsedBytes: 0,
    memoryTotalBytes: 81559 * 1024 * 1024,
    temperatureC: 32,
    powerWatts: 122.04,
    powerLimitWatts: 700,
    smClockMHz: 405,
    eccVolatileUncorrected: 0,
    eccVolatileCorrected: 0,
    migMode: false,
    throttleReasons: ['gpu_idle'],
    healthy: true,
    updatedAt: 5,
    source: 'nvidia-smi',
  });
});

test('the verbatim -lms rows (noheader,nounits) in meshd’s field order', () => {
  const rows = parseQueryCsv(fixture('nvidia-smi-lms.h100.csv'), ctx);
  assert.equal(rows.length, 6);
  assert.deepEqual(
    rows.map((r) => r.powerWatts),
    [70.04, 70.1, 69.92, 69.88, 69.91, 69.89],
  );
  assert.ok(rows.every((r) => r.powerLimitWatts === 700 && r.smClockMHz === 345 && r.migMode === false));
});

test('[N/A], [Not Supported] and other bracketed cells are absent, never 0', () => {
  assert.equal(cell('[N/A]'), undefined);
  assert.equal(cell('[Not Supported]'), undefined);
  assert.equal(cell('[Insufficient Permissions]'), undefined);
  assert.equal(numberCell('N/A'), undefined);
  assert.equal(numberCell('127.32 W'), 127.32);
  const row =
    '0, GPU-x, Tesla T4, [N/A], [N/A], 10, 15360, 40, [Not Supported], [N/A], 585, 0x0000000000000004, [N/A], [N/A], [N/A]';
  const s = rowToGpuState(QUERY_FIELDS, row, ctx)!;
  assert.equal(s.smUtilization, undefined);
  assert.equal(s.powerWatts, undefined);
  assert.equal(s.migMode, undefined);
  assert.deepEqual(s.throttleReasons, ['sw_power_cap']);
  // Garbage never throws: short rows and rows without a UUID are skipped.
  assert.equal(rowToGpuState(QUERY_FIELDS, 'Field "x" is not a valid field to query.', ctx), undefined);
  assert.deepEqual(parseQueryCsv('\n\u0000garbage, 1\n', ctx), []);
});

test('-q -x of the real H100 (MIG off) lists no MIG devices', () => {
  assert.deepEqual(parseMigDevicesXml(fixture('nvidia-smi-q-x.h100.xml')), []);
});

test('MIG devices from -q -x and their UUID and profile from -L', () => {
  // Synthetic: element names of the nvsmi DTD's <mig_devices> block; no MIG capture exists yet.
  const xml = `<nvidia_smi_log><gpu id="00000000:07:00.0"><minor_number>1</minor_number>
<uuid>GPU-aaaa</uuid><mig_devices><mig_device><index>0</index><gpu_instance_id>9</gpu_instance_id>
<compute_instance_id>0</compute_instance_id><fb_memory_usage><total>9856 MiB</total><reserved>0 MiB</reserved>
<used>12 MiB</used><free>9844 MiB</free></fb_memory_usage></mig_device></mig_devices></gpu></nvidia_smi_log>`;
  const listing =
    'GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-aaaa)\n  MIG 1g.10gb     Device  0: (UUID: MIG-bbbb)\n';
  const [mig] = migStates(parseMigDevicesXml(xml), parseListGpus(listing), ctx);
  assert.deepEqual(mig, {
    uuid: 'MIG-bbbb',
    index: 1,
    name: 'MIG 1g.10gb',
    node: 'n1',
    memoryTotalBytes: 9856 * 1024 * 1024,
    memoryUsedBytes: 12 * 1024 * 1024,
    migMode: true,
    migProfile: '1g.10gb',
    parentUuid: 'GPU-aaaa',
    healthy: true,
    updatedAt: 5,
    source: 'nvidia-smi',
  });
  // Without -L the instance is named after its GPU instance id.
  assert.equal(migStates(parseMigDevicesXml(xml), new Map(), ctx)[0]!.uuid, 'GPU-aaaa/gi9');
});
