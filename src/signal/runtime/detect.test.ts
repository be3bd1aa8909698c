/** Runtime detection against every runtime's fake server, in the documented order. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Agent } from 'undici';
import { detectRuntime } from './detect.ts';
import { createGetText } from './http.ts';
import { startFakeOvms } from './testing/fake-ovms-server.ts';
import { startFakeSglang } from './testing/fake-sglang-server.ts';
import { startFakeHttp, text } from './testing/fake-http.ts';
import { startFakeTfServing } from './testing/fake-tfserving-server.ts';
import { startFakeTgi } from './testing/fake-tgi-server.ts';
import { startFakeTorchServe } from './testing/fake-torchserve-server.ts';
import { startFakeTriton } from './testing/fake-triton-server.ts';
import { closedPort, startFakeVllm, vllmModelList } from './testing/fake-vllm-server.ts';
import { vllmPage } from './vllm/page-builder.ts';

const agent = new Agent();
const getText = createGetText(agent);
const closers: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(closers.map((c) => c()));
  await agent.close();
});

const detect = (url: string, model?: string) => detectRuntime(url, getText, AbortSignal.timeout(3000), model);

describe('detectRuntime', () => {
  it('recognises every runtime by its fingerprint', async () => {
    const vllm = await startFakeVllm({
      metrics: vllmPage('m', [{ running: 0 }]),
      models: vllmModelList(['m']),
    });
    const sglang = await startFakeSglang();
    const tgi = await startFakeTgi();
    const triton = await startFakeTriton();
    const ts = await startFakeTorchServe();
    const tfs = await startFakeTfServing({ models: { resnet: 'AVAILABLE' } });
    const ovms = await startFakeOvms({ models: { resnet: 'AVAILABLE' } });
    for (const f of [vllm, sglang, tgi, triton, ts, tfs, ovms]) closers.push(() => f.close());
    assert.equal((await detect(sglang.url)).runtime, 'sglang');
    assert.equal((await detect(tgi.url)).runtime, 'tgi');
    assert.equal((await detect(triton.url)).runtime, 'triton');
    assert.equal((await detect(ts.url)).runtime, 'torchserve');
    assert.equal((await detect(tfs.url)).runtime, 'tfserving');
    assert.equal((await detect(tfs.url, 'resnet')).runtime, 'tfserving');
    assert.equal((await detect(ovms.url)).runtime, 'ovms');
    assert.equal((await detect(vllm.url)).runtime, 'vllm');
  });

  it('says not_found for an unknown server and unavailable for a closed port', async () => {
    const other = await startFakeHttp({ isMetrics: () => false, route: () => text(200, 'hello') });
    closers.push(() => other.close());
    await assert.rejects(detect(other.url), { code: 'not_found' });
    await assert.rejects(detect(await closedPort()), { code: 'unavailable' });
  });
});
