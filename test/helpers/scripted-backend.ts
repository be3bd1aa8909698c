/**
 * Test fixture: an HTTP backend that a meshd gpu role scrapes as a vLLM endpoint (`/v1/models`,
 * `/metrics`, `/health`) and whose inference answers the test scripts, for relay behaviour the
 * simulator does not produce on demand (a flood of stream bytes, a socket cut at a chosen point).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { bind } from '../../src/core/listen.ts';

export interface ScriptedBackend {
  url: string;
  /** Inference requests received. */
  requests: number;
  close(): Promise<void>;
}

export type InferenceScript = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export async function startScriptedBackend(model: string, script: InferenceScript): Promise<ScriptedBackend> {
  const models = JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: 'vllm' }] });
  const metrics =
    `# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="${model}"} 0\n` +
    `# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="${model}"} 0\n`;
  const backend = { url: '', requests: 0, close: async () => undefined };
  const server = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        backend.requests++;
        script(req, res, body);
      });
      return;
    }
    const page = req.url === '/v1/models' ? models : req.url === '/metrics' ? metrics : '';
    res.writeHead(200, { 'content-type': req.url === '/metrics' ? 'text/plain' : 'application/json' });
    res.end(page);
  });
  backend.url = (await bind(server, { host: '127.0.0.1', port: 0 })).url;
  backend.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return backend;
}
