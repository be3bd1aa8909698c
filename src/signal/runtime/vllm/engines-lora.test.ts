/** vLLM per-engine records, LoRA adapters from lora_requests_info and /v1/models, and LoRA control. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { MeshError } from '../../../core/errors.ts';
import { createSendRequest } from '../control-http.ts';
import { createGetText } from '../http.ts';
import { readFixture } from '../testing/fixtures.ts';
import { createVllmAdapter } from './adapter.ts';
import { startFakeVllm, vllmModelList, type FakeVllmServer } from '../testing/fake-vllm-server.ts';
import { vllmPage } from './page-builder.ts';

const agent = new Agent();
const getText = createGetText(agent);
const send = createSendRequest(agent, 2000);
const signal = new AbortController().signal;
let fake: FakeVllmServer;

before(async () => {
  fake = await startFakeVllm();
});
after(async () => {
  await fake.close();
  await agent.close();
});

const adapter = () =>
  createVllmAdapter({ endpointId: 'n1/v', node: 'n1', url: fake.url, getText, send, minWindowMs: 0 });

const loraInfo = (at: number, running: string, waiting: string) =>
  `# HELP vllm:lora_requests_info Running stats on lora requests.\n# TYPE vllm:lora_requests_info gauge\n` +
  `vllm:lora_requests_info{max_lora="4",running_lora_adapters="${running}",waiting_lora_adapters="${waiting}"} ${at}\n`;

describe('vLLM adapter: data-parallel engines', () => {
  it('keeps the aggregate as the record and gives one record per engine, each with its own window', async () => {
    fake.loraRoutes = false;
    fake.models = vllmModelList(['dp']);
    const a = adapter();
    assert.deepEqual(a.engines?.(), []);
    fake.metrics = vllmPage('dp', [
      { engine: '0', running: 1, waiting: 0, kvUsage: 0.2, success: 10, numGpuBlocks: 100 },
      { engine: '1', running: 3, waiting: 2, kvUsage: 0.6, success: 20, numGpuBlocks: 100 },
    ]);
    await a.scrape({ signal, now: 0 });
    fake.metrics = vllmPage('dp', [
      { engine: '0', running: 1, waiting: 0, kvUsage: 0.2, success: 20, numGpuBlocks: 100 },
      { engine: '1', running: 3, waiting: 2, kvUsage: 0.6, success: 50, numGpuBlocks: 100 },
    ]);
    const [agg] = await a.scrape({ signal, now: 10_000 });
    assert.deepEqual([agg?.running, agg?.queueDepth, agg?.requestRate, agg?.kvBlocksTotal], [4, 2, 4, 200]);
    assert.ok(Math.abs(agg!.kvCacheUsage! - 0.4) < 1e-12);
    const engines = a.engines?.() ?? [];
    assert.deepEqual(
      engines.map((e) => [
        e.engine,
        e.model,
        e.running,
        e.queueDepth,
        e.kvCacheUsage,
        e.requestRate,
        e.kvBlocksTotal,
      ]),
      [
        ['0', 'dp', 1, 0, 0.2, 1, 100],
        ['1', 'dp', 3, 2, 0.6, 3, 100],
      ],
    );
  });

  it('has no engine records for a page without an engine label (§1.4.3)', async () => {
    fake.metrics = readFixture(import.meta.url, './fixtures/vllm-v1-era-no-engine.commented.txt', {
      uncomment: true,
    });
    fake.models = vllmModelList(['Qwen/Qwen3-0.6B']);
    const a = adapter();
    await a.scrape({ signal, now: 1 });
    assert.deepEqual(a.engines?.(), []);
  });
});

describe('vLLM adapter: LoRA adapters', () => {
  it('reads the newest lora_requests_info series and the /v1/models children of a base model', async () => {
    fake.metrics =
      vllmPage('base', [{ running: 1 }]) + loraInfo(1.7e9, 'old', '') + loraInfo(1.8e9, 'sql,chat', 'math');
    fake.models = vllmModelList(['base', { id: 'sql', parent: 'base' }, { id: 'summ', parent: 'base' }]);
    const states = await adapter().scrape({ signal, now: 1 });
    const byModel = new Map(states.map((s) => [s.model, s]));
    assert.deepEqual(byModel.get('base')?.loraAdapters, ['chat', 'math', 'sql', 'summ']);
    assert.equal(byModel.get('sql')?.loraAdapters, undefined);
    assert.equal(byModel.get('sql')?.running, 1);
  });

  it('leaves loraAdapters absent without --enable-lora and without adapters', async () => {
    fake.metrics = vllmPage('base', [{ running: 1 }]);
    fake.models = vllmModelList(['base']);
    const [state] = await adapter().scrape({ signal, now: 1 });
    assert.equal(state?.loraAdapters, undefined);
  });
});

describe('vLLM adapter: LoRA control', () => {
  it('reports canLoad only when the runtime-update routes exist, and loads and unloads through them', async () => {
    fake.metrics = vllmPage('base', [{ running: 0 }]);
    fake.models = vllmModelList(['base']);
    fake.loraRoutes = true;
    const a = adapter();
    const [state] = await a.scrape({ signal, now: 1 });
    assert.deepEqual([state?.canLoad, state?.canUnload], [true, true]);
    await a.control!.loadModel('sql', { source: '/loras/sql', baseModel: 'base' });
    assert.equal(fake.loras.get('sql'), '/loras/sql');
    await assert.rejects(a.control!.loadModel('sql', { source: '/loras/sql' }), { code: 'invalid_request' });
    await assert.rejects(a.control!.loadModel('nopath'), { code: 'invalid_request' });
    await a.control!.unloadModel('sql');
    assert.equal(fake.loras.size, 0);
    await assert.rejects(a.control!.unloadModel('sql'), (err: unknown) => {
      assert.ok(err instanceof MeshError);
      assert.equal(err.code, 'not_found');
      assert.match(err.message, /cannot be found/);
      return true;
    });
  });

  it('says not_implemented when vLLM runs without VLLM_ALLOW_RUNTIME_LORA_UPDATING', async () => {
    fake.loraRoutes = false;
    const a = adapter();
    const [state] = await a.scrape({ signal, now: 1 });
    assert.equal(state?.canLoad, false);
    await assert.rejects(a.control!.loadModel('x', { source: '/p' }), { code: 'not_implemented' });
  });

  it('fails with upstream_error when the runtime is gone, and upstream_timeout when it hangs', async () => {
    const a = adapter();
    fake.mode = 'hang';
    const slow = createVllmAdapter({
      endpointId: 'n1/v',
      node: 'n1',
      url: fake.url,
      getText,
      send: createSendRequest(agent, 100),
    });
    await assert.rejects(slow.control!.unloadModel('x'), { code: 'upstream_timeout' });
    fake.mode = 'ok';
    const gone = createVllmAdapter({
      endpointId: 'n1/v',
      node: 'n1',
      url: 'http://127.0.0.1:1',
      getText,
      send,
    });
    await assert.rejects(gone.control!.unloadModel('x'), { code: 'upstream_error' });
    assert.ok(a.control);
  });
});
