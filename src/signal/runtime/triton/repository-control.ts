/**
 * Triton's model lifecycle through the KServe v2 repository extension:
 * `POST /v2/repository/models/{m}/load|unload`, which Triton accepts only with
 * `--model-control-mode=explicit` (otherwise it refuses: `invalid_request`).
 */
import { MeshError } from '../../../core/errors.ts';
import { expectOk, type SendRequest } from '../control-http.ts';
import type { LoadModelOptions, RuntimeControl } from '../types.ts';

/** Load/unload through the repository extension. `options.config` is passed as Triton's `parameters`. */
export function createKserveRepositoryControl(baseUrl: string, send: SendRequest): RuntimeControl {
  const call = async (model: string, op: 'load' | 'unload', body: unknown) => {
    if (!model || model.includes('/'))
      throw new MeshError('invalid_request', `"${model}" is not a model repository name`);
    const res = await send(`${baseUrl}/v2/repository/models/${encodeURIComponent(model)}/${op}`, {
      method: 'POST',
      body,
    });
    // Triton answers 400 for an unknown model as for a refused one; the message says which.
    if (res.status === 400 && /not found|failed to poll from model repository/i.test(res.body))
      res.status = 404;
    expectOk(res, `${op} model "${model}"`);
  };
  return {
    loadModel: (model: string, options: LoadModelOptions = {}) =>
      call(model, 'load', options.config ? { parameters: options.config } : {}),
    unloadModel: (model: string) => call(model, 'unload', {}),
  };
}
