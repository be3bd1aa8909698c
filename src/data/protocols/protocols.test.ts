import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../core/errors.ts';
import type { Protocol } from '../../core/types.ts';
import { kserveProtocol, openaiProtocol, protocolForPath, tgiProtocol } from './index.ts';
import type { RequestView, RouteContext } from './types.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MeshError);
    return err.code;
  }
  return 'none';
};

function view(
  path: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): RequestView {
  const url = new URL(path, 'http://x');
  return { path: url.pathname, query: url.searchParams, headers, body };
}

const ctx = (served: Partial<Record<Protocol, string[]>> = {}): RouteContext => ({
  modelsSpeaking: (p) => served[p] ?? [],
});

test('paths choose the protocol; unknown paths take the shape of their namespace', () => {
  assert.equal(protocolForPath('/v1/chat/completions'), openaiProtocol);
  assert.equal(protocolForPath('/v1/completions'), openaiProtocol);
  assert.equal(protocolForPath('/generate'), tgiProtocol);
  assert.equal(protocolForPath('/generate_stream'), tgiProtocol);
  assert.equal(protocolForPath('/v2/models/m/infer'), kserveProtocol);
  assert.equal(protocolForPath('/v2/models/m/versions/3/infer'), kserveProtocol);
  assert.equal(protocolForPath('/v2/whatever'), kserveProtocol);
  assert.equal(protocolForPath('/v1/nothing'), openaiProtocol);
  assert.equal(protocolForPath('/'), openaiProtocol);
  assert.equal(protocolForPath('/v2/models/m/infer/extra'), kserveProtocol);
  assert.equal(kserveProtocol.route('/v2/models/m/infer/extra'), undefined);
  assert.equal(kserveProtocol.route('/v2/models//infer'), undefined);
});

test('each protocol names what endpoints must speak', () => {
  assert.equal(openaiProtocol.speaks, 'openai');
  assert.equal(tgiProtocol.speaks, 'tgi');
  assert.equal(kserveProtocol.speaks, 'kserve-v2');
});

test('OpenAI: model from the body; missing is model_not_found, non-string invalid_request', () => {
  const route = openaiProtocol.route('/v1/chat/completions')!;
  assert.equal(route.upstreamPath, '/v1/chat/completions');
  assert.equal(route.model(view('/v1/chat/completions', { model: 'm' }), ctx()), 'm');
  assert.equal(
    codeOf(() => route.model(view('/v1/chat/completions', {}), ctx())),
    'model_not_found',
  );
  assert.equal(
    codeOf(() => route.model(view('/v1/chat/completions', { model: '' }), ctx())),
    'model_not_found',
  );
  assert.equal(
    codeOf(() => route.model(view('/v1/chat/completions', { model: 7 }), ctx())),
    'invalid_request',
  );
  assert.equal(route.streams({ stream: true }), true);
  assert.equal(route.streams({ stream: 'yes' }), false);
});

test('TGI: x-model header, then ?model=, then the only TGI model', () => {
  const route = tgiProtocol.route('/generate')!;
  const served = ctx({ tgi: ['a'], openai: ['a', 'b'] });
  assert.equal(route.model(view('/generate', {}, { 'x-model': 'h' }), served), 'h');
  assert.equal(route.model(view('/generate?model=q', {}, { 'x-model': 'h' }), served), 'h');
  assert.equal(route.model(view('/generate?model=q'), served), 'q');
  assert.equal(route.model(view('/generate', { model: 'ignored' }), served), 'a');
  assert.equal(
    codeOf(() => route.model(view('/generate'), ctx({ tgi: ['a', 'b'] }))),
    'invalid_request',
  );
  assert.equal(
    codeOf(() => route.model(view('/generate'), ctx({ openai: ['a'] }))),
    'no_healthy_endpoint',
  );
  assert.equal(route.streams({ stream: true }), false);
  assert.equal(tgiProtocol.route('/generate_stream')!.streams({}), true);
});

test('KServe: the model is the decoded path segment; the path is forwarded with its version', () => {
  const route = kserveProtocol.route('/v2/models/my%20model/versions/2/infer')!;
  assert.equal(route.upstreamPath, '/v2/models/my%20model/versions/2/infer');
  assert.equal(route.model(view('/v2/models/my%20model/versions/2/infer'), ctx()), 'my model');
  assert.equal(route.streams({}), false);
  const bad = kserveProtocol.route('/v2/models/%E0%A4%A/infer')!;
  assert.equal(
    codeOf(() => bad.model(view('/v2/models/x/infer'), ctx())),
    'invalid_request',
  );
});

test('error bodies: OpenAI object, TGI error + error_type, KServe v2 error string', () => {
  const err = new MeshError('no_healthy_endpoint', 'nothing healthy');
  assert.deepEqual(openaiProtocol.errorBody(err), {
    error: {
      message: 'nothing healthy',
      type: 'service_unavailable_error',
      param: null,
      code: 'no_healthy_endpoint',
    },
  });
  assert.deepEqual(tgiProtocol.errorBody(err), { error: 'nothing healthy', error_type: 'overloaded' });
  assert.deepEqual(tgiProtocol.errorBody(new MeshError('invalid_request', 'bad')), {
    error: 'bad',
    error_type: 'validation',
  });
  assert.deepEqual(tgiProtocol.errorBody(new MeshError('upstream_error', 'boom')), {
    error: 'boom',
    error_type: 'generation',
  });
  assert.deepEqual(kserveProtocol.errorBody(err), { error: 'nothing healthy' });
});

test('mid-stream error events follow each protocol stream format', () => {
  const err = new MeshError('upstream_error', 'cut');
  const openai = openaiProtocol.streamError(err);
  assert.match(openai, /^data: \{"error":\{"message":"cut".*\}\n\ndata: \[DONE\]\n\n$/);
  // TGI: `data:` with no space, TGI's ErrorResponse, no [DONE].
  assert.equal(tgiProtocol.streamError(err), 'data:{"error":"cut","error_type":"incomplete_generation"}\n\n');
});
