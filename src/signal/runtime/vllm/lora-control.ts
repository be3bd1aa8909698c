/**
 * LoRA adapters through vLLM's runtime API (reference §1.3, §1.5.6): `POST /v1/load_lora_adapter`
 * `{"lora_name","lora_path"}` and `POST /v1/unload_lora_adapter` `{"lora_name"}`; success is 200
 * with a plain-text body. The routes exist only when the server runs with
 * `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`; without them FastAPI answers its own
 * `{"detail":"Not Found"}`, which we report as `not_implemented` rather than an unknown adapter.
 */
import { MeshError } from '../../../core/errors.ts';
import { expectOk, runtimeMessage, type SendRequest } from '../control-http.ts';
import type { TextResponse } from '../http.ts';
import type { LoadModelOptions, RuntimeControl } from '../types.ts';

/** FastAPI's answer for a route that is not registered. */
const routeMissing = (res: TextResponse) => res.status === 404 && runtimeMessage(res.body) === 'Not Found';

function check(res: TextResponse, what: string): void {
  if (routeMissing(res))
    throw new MeshError(
      'not_implemented',
      `${what}: this vLLM does not allow runtime LoRA updates (start it with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)`,
    );
  expectOk(res, what);
}

/** LoRA load/unload for one vLLM endpoint. `loadModel` needs `options.source` (the adapter path). */
export function createVllmLoraControl(base: string, send: SendRequest): RuntimeControl {
  return {
    async loadModel(model: string, options: LoadModelOptions = {}) {
      if (!options.source)
        throw new MeshError('invalid_request', `loading LoRA adapter "${model}" on vLLM needs a source path`);
      const res = await send(`${base}/v1/load_lora_adapter`, {
        method: 'POST',
        body: { lora_name: model, lora_path: options.source },
      });
      check(res, `load LoRA adapter "${model}"`);
    },
    async unloadModel(model: string) {
      const res = await send(`${base}/v1/unload_lora_adapter`, {
        method: 'POST',
        body: { lora_name: model },
      });
      check(res, `unload LoRA adapter "${model}"`);
    },
  };
}
