/**
 * Test fixture for hedging: a vLLM-shaped backend (`/v1/models`, `/metrics`, `/health`) whose
 * completions answer after a delay the test sets — a stream sends its headers at once and its
 * first token after `firstTokenDelayMs`, a whole answer comes after it — and that counts the
 * requests the router cancelled (the connection closed before the answer ended).
 */
import { createServer, type ServerResponse } from 'node:http';
import { bind } from '../../src/core/listen.ts';

export interface HedgeBackend {
  url: string;
  /** Delay before the first token (stream) or the whole answer; changeable at any time. */
  firstTokenDelayMs: number;
  /** `vllm:num_requests_waiting` the scrape reports. */
  waiting: number;
  requests: number;
  completed: number;
  /** Requests whose connection closed before their answer ended (the router cancelled them). */
  aborted: number;
  close(): Promise<void>;
}

export async function startHedgeBackend(model: string, firstTokenDelayMs = 0): Promise<HedgeBackend> {
  const models = JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: 'vllm' }] });
  const backend: HedgeBackend = {
    url: '',
    firstTokenDelayMs,
    waiting: 0,
    requests: 0,
    completed: 0,
    aborted: 0,
    close: async () => undefined,
  };
  const answer = (res: ServerResponse, stream: boolean, name: string) => {
    const id = `cmpl-${name}-${backend.requests}`;
    if (!stream) {
      const text = JSON.stringify({
        id,
        object: 'text_completion',
        model,
        choices: [{ index: 0, text: 'hi' }],
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    for (const word of ['hello', ' from', ` ${name}`]) {
      res.write(
        `data: ${JSON.stringify({ id, object: 'text_completion', model, choices: [{ text: word }] })}\n\n`,
      );
    }
    res.end('data: [DONE]\n\n');
  };
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      const metrics =
        `# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="${model}"} 0\n` +
        `# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="${model}"} ${backend.waiting}\n`;
      const page = req.url === '/v1/models' ? models : req.url === '/metrics' ? metrics : '';
      res.writeHead(200, { 'content-type': req.url === '/metrics' ? 'text/plain' : 'application/json' });
      res.end(page);
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      backend.requests++;
      const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
      if (stream) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const timer = setTimeout(() => answer(res, stream, backend.url), backend.firstTokenDelayMs);
      res.on('close', () => {
        clearTimeout(timer);
        if (res.writableFinished) backend.completed++;
        else backend.aborted++;
      });
    });
  });
  backend.url = (await bind(server, { host: '127.0.0.1', port: 0 })).url;
  backend.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return backend;
}
