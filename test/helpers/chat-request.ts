/**
 * One chat completion on its own connection (so a router's worker threads each get some), for the
 * routing tests that build a router role in-process: status, the endpoint that answered, the mesh
 * error code, the headers and the body.
 */
import { Agent, request } from 'undici';

export async function chatCompletion(
  url: string,
  model: string,
  headers: Record<string, string> = {},
  extra: object = {},
) {
  const agent = new Agent({ connections: 1 });
  try {
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, ...extra }),
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      endpoint: String(res.headers['x-infermesh-endpoint']),
      code: res.headers['mesh-error-code'],
      headers: res.headers,
      text,
    };
  } finally {
    await agent.close();
  }
}
