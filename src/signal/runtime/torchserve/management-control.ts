/**
 * TorchServe's model lifecycle through its management API (default port 8081): register
 * `POST /models?url=&model_name=&initial_workers=&synchronous=true`, unregister `DELETE /models/{m}`.
 */
import { MeshError } from '../../../core/errors.ts';
import { expectOk, type SendRequest } from '../control-http.ts';
import type { LoadModelOptions, RuntimeControl } from '../types.ts';

/** Register (`source` = a .mar URL or model-store name; `config.initial_workers`, default 1) and unregister. */
export function createTorchServeControl(managementUrl: string, send: SendRequest): RuntimeControl {
  return {
    async loadModel(model: string, options: LoadModelOptions = {}) {
      if (!options.source)
        throw new MeshError('invalid_request', `registering "${model}" needs a source (.mar URL)`);
      const q = new URLSearchParams({
        url: options.source,
        model_name: model,
        initial_workers: options.config?.initial_workers ?? '1',
        synchronous: 'true',
      });
      for (const [k, v] of Object.entries(options.config ?? {})) if (k !== 'initial_workers') q.set(k, v);
      expectOk(
        await send(`${managementUrl}/models?${q.toString()}`, { method: 'POST' }),
        `register "${model}"`,
      );
    },
    async unloadModel(model: string) {
      const res = await send(`${managementUrl}/models/${encodeURIComponent(model)}`, { method: 'DELETE' });
      expectOk(res, `unregister "${model}"`);
    },
  };
}
