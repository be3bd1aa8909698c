// Prefix affinity on real traffic: the router's prefix index, fed by the requests it sends, brings
// a follow-up that shares a long prompt prefix back to the endpoint that holds it, under the
// default profile, on an idle and balanced fleet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './helpers/local-mesh.ts';
import { chatBody, MODEL, startScoringMesh, type ScoringMesh } from './helpers/scoring-mesh.ts';

let mesh: ScoringMesh;
before(async () => {
  mesh = await startScoringMesh({ sims: 2, timeScale: 20 });
});
after(() => mesh.close());

async function send(prompt: string): Promise<string> {
  const res = await fetch(`${mesh.routerUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chatBody(prompt),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return res.headers.get('x-infermesh-endpoint') ?? '';
}

const idle = () =>
  mesh.meshd.store.list({ model: MODEL }).every((s) => (s.running ?? 0) === 0 && (s.queueDepth ?? 0) === 0);

test('follow-ups sharing a long prefix land where that prefix went', async () => {
  // Two conversations with ~4,000-token system prompts, sent together: they spread over both endpoints.
  const system = (c: string) => `${c}: ${'You are a careful assistant. '.repeat(550)}`;
  const [first1, first2] = await Promise.all([send(`${system('A')} Q1`), send(`${system('B')} Q1`)]);
  assert.notEqual(first1, first2, 'the two first turns spread over the fleet');
  await waitFor(idle, 5000, 'the fleet to be idle again');

  // The second turns, again together: each goes back to its conversation's endpoint.
  const [next1, next2] = await Promise.all([
    send(`${system('A')} Q1 A1 Q2`),
    send(`${system('B')} Q1 A1 Q2`),
  ]);
  assert.equal(next1, first1);
  assert.equal(next2, first2);
});
