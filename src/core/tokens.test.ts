import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { estimateChatTokens, estimateTokens, renderChatPrompt, tokenIds, utf8Length } from './tokens.ts';

test('estimateTokens is ceil(utf8 bytes / 4)', () => {
  assert.equal(estimateTokens(''), 0);
  assert.equal(estimateTokens('abc'), 1);
  assert.equal(estimateTokens('abcd'), 1);
  assert.equal(estimateTokens('abcde'), 2);
  assert.equal(estimateTokens('é'), 1); // 2 bytes
  assert.equal(estimateTokens('日本語'), 3); // 9 bytes
  assert.equal(estimateTokens('😀😀'), 2); // 8 bytes
});

test('utf8Length matches TextEncoder, tokenIds length matches estimateTokens', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-composite' }), (s) => {
      assert.equal(utf8Length(s), new TextEncoder().encode(s).length);
      assert.equal(tokenIds(s).length, estimateTokens(s));
    }),
  );
});

test('equal prefixes give equal leading token ids', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
      const prefix = a.padEnd(16, 'x');
      const x = tokenIds(prefix + b);
      const y = tokenIds(prefix + c);
      const shared = Math.floor(utf8Length(prefix) / 4);
      assert.deepEqual(x.slice(0, shared), y.slice(0, shared));
    }),
  );
  assert.notDeepEqual(tokenIds('abcdabcd'), tokenIds('abcdabce'));
  assert.deepEqual(tokenIds('hello world'), tokenIds('hello world'));
});

test('chat rendering is role + content with a generation prompt, and extends across turns', () => {
  const turn1 = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url' }] },
  ];
  assert.equal(renderChatPrompt(turn1), '<|system|>\nbe brief\n<|user|>\nhi\n<|assistant|>\n');
  const turn2 = [...turn1, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'more' }];
  assert.ok(renderChatPrompt(turn2).startsWith(renderChatPrompt(turn1)));
  assert.equal(estimateChatTokens(turn1), estimateTokens(renderChatPrompt(turn1)));
  assert.equal(renderChatPrompt([{ role: 'user', content: null }]), '<|user|>\n\n<|assistant|>\n');
});
