import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFrame } from './render.ts';
import type { TopEndpoint, TopGpu, TopSnapshot } from './snapshot.ts';
import { clip, ellipsis, fitTable, visibleLength } from './table.ts';

const gpu = (node: string, index: number, over: Partial<TopGpu> = {}): TopGpu => ({
  node,
  uuid: `GPU-${node}-${index}-0000-1111-2222-333344445555`,
  index,
  name: 'NVIDIA H100 80GB HBM3',
  migProfile: '',
  utilization: 0.875,
  memoryUsedBytes: 61.2e9,
  memoryTotalBytes: 85.5e9,
  temperatureC: 64.4,
  powerWatts: 412.6,
  powerLimitWatts: 700,
  smClockMhz: 1980,
  eccUncorrected: 0,
  xidLast: null,
  healthy: true,
  quarantineReason: null,
  ...over,
});

const endpoint = (node: string, name: string, over: Partial<TopEndpoint> = {}): TopEndpoint => ({
  endpointId: `${node}/${name}`,
  node,
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  runtime: 'vllm',
  health: 'healthy',
  loaded: true,
  warming: false,
  queueDepth: 3,
  running: 17,
  kvCacheUsage: 0.423,
  prefixCacheHitRate: 0.61,
  ttftP95Ms: 182.4,
  itlP95Ms: 21.7,
  inFlight: 5,
  gpuUuids: [],
  ...over,
});

const snapshot: TopSnapshot = {
  endpoint: 'http://127.0.0.1:50051',
  time: '2026-12-06T12:00:00.123Z',
  nodes: [
    { id: 'gpu-b', roles: ['gpu'], status: 'draining', zone: 'eu-west', version: '0.1.0' },
    { id: 'gpu-a', roles: ['router', 'gpu'], status: 'healthy', zone: 'eu-west', version: '0.1.0' },
  ],
  gpus: [
    gpu('gpu-b', 0),
    gpu('gpu-a', 1, { healthy: false, quarantineReason: 'temperature: temperature 97 C >= 90 C' }),
    gpu('gpu-a', 0, { memoryTotalBytes: null, powerLimitWatts: null, utilization: null }),
  ],
  endpoints: [
    endpoint('gpu-b', 'vllm-0', { health: 'stale' }),
    endpoint('gpu-a', 'vllm-1', { gpuUuids: ['GPU-gpu-a-1-0000-1111-2222-333344445555'] }),
    endpoint('gpu-a', 'vllm-0', { ttftP95Ms: null, inFlight: null }),
  ],
};

const plain = (width: number, height?: number) =>
  renderFrame(snapshot, { width, color: false, ...(height ? { height } : {}) });
const rowsAfter = (lines: string[], title: string) => {
  const start = lines.findIndex((l) => l.startsWith(title)) + 2;
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end);
};

test('a wide frame shows every table sorted by identity, with units and dashes for missing signals', () => {
  const lines = plain(400);
  assert.equal(lines[0], 'mesh top  http://127.0.0.1:50051  2026-12-06T12:00:00Z');
  assert.equal(lines[1], 'nodes 2 (1 healthy)  gpus 3 (1 quarantined/out)  endpoints 3 (2 healthy)');
  assert.deepEqual(
    rowsAfter(lines, 'NODES').map((l) => l.split(/\s+/).slice(0, 3)),
    [
      ['gpu-a', 'router,gpu', 'healthy'],
      ['gpu-b', 'gpu', 'draining'],
    ],
  );
  const gpus = rowsAfter(lines, 'GPUS');
  assert.deepEqual(
    gpus.map((l) => l.split(/\s+/).slice(0, 2)),
    [
      ['gpu-a', '0'],
      ['gpu-a', '1'],
      ['gpu-b', '0'],
    ],
  );
  assert.match(gpus[0] ?? '', /\s-\s+57\.0Gi\s+64C\s+413W\s+1980MHz\s+0\s+-\s+ok$/);
  assert.match(
    gpus[1] ?? '',
    /88%\s+57\.0\/79\.6Gi\s+64C\s+413\/700W.*quarantined \(temperature: temperature 97 C >= 90 C\)$/,
  );
  const eps = rowsAfter(lines, 'ENDPOINTS');
  assert.deepEqual(
    eps.map((l) => l.split(/\s+/)[0]),
    ['gpu-a/vllm-0', 'gpu-a/vllm-1', 'gpu-b/vllm-0'],
  );
  assert.match(eps[0] ?? '', /healthy\s+3\s+17\s+42%\s+61%\s+-\s+22ms\s+-$/);
  assert.match(eps[1] ?? '', /healthy, gpu out\s+3\s+17\s+42%\s+61%\s+182ms\s+22ms\s+5$/);
  assert.match(eps[2] ?? '', /stale\s/);
});

test('every line fits the width: less important columns go first, then long names are cut', () => {
  for (const width of [140, 100, 80, 60, 40, 20]) {
    const lines = plain(width);
    for (const l of lines) assert.ok(l.length <= width, `${width}: ${l}`);
  }
  const at80 = plain(80);
  const gpuHead = at80.find((l) => /^NODE\s+GPU/.test(l)) ?? '';
  assert.doesNotMatch(gpuHead, /XID|ECC|CLOCK/);
  assert.match(gpuHead, /UTIL.*MEMORY.*TEMP.*STATE/);
  const epHead = at80.find((l) => l.startsWith('ENDPOINT ')) ?? '';
  assert.match(epHead, /MODEL.*HEALTH.*QUEUE.*RUN.*KV/);
  // A model name too long for the width is cut with an ellipsis rather than wrapped.
  assert.ok(plain(60).some((l) => l.includes('…')));
});

test('a frame taller than the terminal is cut and says how much is hidden', () => {
  const lines = plain(200, 10);
  assert.equal(lines.length, 10);
  assert.match(lines[9] ?? '', /^… \d+ more lines/);
  assert.equal(plain(200, 100).length, plain(200).length);
});

test('colour marks health and quarantine only when asked (NO_COLOR, non-TTY: none)', () => {
  const colored = renderFrame(snapshot, { width: 400, color: true });
  const text = colored.join('\n');
  assert.ok(text.includes('\u001b[31mquarantined (temperature'), 'quarantine in red');
  assert.ok(text.includes('\u001b[32mhealthy\u001b[0m'), 'healthy in green');
  assert.ok(text.includes('\u001b[33mstale\u001b[0m'), 'stale in yellow');
  assert.ok(text.includes('\u001b[33mdraining\u001b[0m'), 'draining in yellow');
  // Colour codes take no width: the same lines fit.
  for (const width of [120, 70]) {
    for (const l of renderFrame(snapshot, { width, color: true })) assert.ok(visibleLength(l) <= width);
  }
  assert.ok(!plain(400).join('\n').includes('\u001b'));
});

test('table helpers: ellipsis, clip keeps colour closed, columns are never dropped below drop 0', () => {
  assert.equal(ellipsis('abcdef', 4), 'abc…');
  assert.equal(ellipsis('abc', 4), 'abc');
  assert.equal(clip('\u001b[31mabcdef\u001b[0m', 3), '\u001b[31mabc\u001b[0m');
  const lines = fitTable(
    [{ head: 'ID' }, { head: 'X', drop: 1 }],
    [[{ text: 'a-very-long-id' }, { text: '1' }]],
    8,
    false,
  );
  assert.deepEqual(lines, ['ID', 'a-very-l']);
});
