import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseRocmSmiJson } from './parse.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ctx = { node: 'n1', now: 3 };

test('RX 7900 XT: use and VRAM bytes', () => {
  assert.deepEqual(parseRocmSmiJson(fixture('rocm-smi-showuse-meminfo.rx7900xt.json'), ctx), [
    {
      uuid: 'AMD-n1-card0',
      index: 0,
      name: 'Radeon RX 7900 XT',
      node: 'n1',
      smUtilization: 0,
      memoryUsedBytes: 27856896,
      memoryTotalBytes: 21458059264,
      healthy: true,
      updatedAt: 3,
      source: 'rocm-smi',
    },
  ]);
});

test('780M: edge temperature, socket power, sclk from "(800Mhz)", N/A absent', () => {
  const [g] = parseRocmSmiJson(fixture('rocm-smi-all.780m.excerpt.json'), ctx);
  assert.equal(g!.temperatureC, 31);
  assert.equal(g!.powerWatts, 7.222);
  assert.equal(g!.smClockMHz, 800);
  assert.equal(g!.smUtilization, 0.19);
  assert.equal(g!.name, 'Phoenix3');
  assert.equal(g!.memoryUtilization, undefined, '"Memory Activity": "N/A" is not memory use');
});

test('two cards with --showmemuse; bad input gives an empty list', () => {
  const gpus = parseRocmSmiJson(fixture('rocm-smi-showmemuse.rx6800x2.json'), ctx);
  assert.deepEqual(
    gpus.map((g) => [g.index, g.memoryUsedBytes]),
    [
      [0, 17453056],
      [1, 17457152],
    ],
  );
  assert.ok(gpus[0]!.memoryUtilization! < 0.01);
  assert.deepEqual(parseRocmSmiJson('not json', ctx), []);
  assert.deepEqual(parseRocmSmiJson('[1,2]', ctx), []);
  assert.deepEqual(parseRocmSmiJson('{"system":{"Driver version":"6.8"},"card0":"x"}', ctx), []);
  const [unique] = parseRocmSmiJson('{"card2":{"Unique ID":"0xac1b58f8c066790f","GPU use (%)":"N/A"}}', ctx);
  assert.equal(unique!.uuid, 'AMD-ac1b58f8c066790f');
  assert.equal(unique!.smUtilization, undefined);
});
