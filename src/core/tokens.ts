/**
 * The one token rule of the mesh. The router estimates prompt sizes and prefix keys with it and the
 * simulator charges prefill time and fills its prefix cache with it, so both always agree on what
 * "N tokens" and "the same prefix" mean without shipping a real tokenizer.
 *
 * Rule: one token per 4 bytes of UTF-8, rounded up (`ceil(utf8Bytes / 4)`). Real BPE tokenizers for
 * Llama-3-class models average about 4 bytes per token on English text, so the estimate is close
 * enough for scheduling and cost decisions, and it is exact, cheap and language-neutral.
 */

/** Bytes of UTF-8 text per estimated token. */
export const BYTES_PER_TOKEN = 4;

const encoder = new TextEncoder();

/** Estimated token count of `text`: `ceil(utf8Bytes / 4)`; the empty string is 0 tokens. */
export function estimateTokens(text: string): number {
  return Math.ceil(utf8Length(text) / BYTES_PER_TOKEN);
}

/** UTF-8 byte length without allocating (lone surrogates count as 3 bytes, as TextEncoder writes U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Deterministic pseudo token ids for `text`: one id per 4-byte chunk of its UTF-8 bytes (the last
 * chunk may be shorter), each the 32-bit FNV-1a hash of the chunk. `tokenIds(t).length ===
 * estimateTokens(t)`, and two texts that share their first `4k` bytes share their first `k` ids, so
 * a prefix cache keyed on these ids sees equal prefixes as equal blocks.
 */
export function tokenIds(text: string): number[] {
  const bytes = encoder.encode(text);
  const ids = new Array<number>(Math.ceil(bytes.length / BYTES_PER_TOKEN));
  for (let t = 0, i = 0; i < bytes.length; t++, i += BYTES_PER_TOKEN) {
    let h = 0x811c9dc5;
    const end = Math.min(i + BYTES_PER_TOKEN, bytes.length);
    for (let j = i; j < end; j++) h = Math.imul(h ^ (bytes[j] ?? 0), 0x01000193);
    ids[t] = h >>> 0;
  }
  return ids;
}

/** One chat message as clients send it; only text content counts toward the prompt. */
export interface ChatMessageLike {
  role: string;
  content?: string | readonly ({ type?: string; text?: string } | string)[] | null;
  name?: string;
}

/**
 * Renders chat `messages` into the single prompt string whose tokens the mesh counts:
 * each message becomes `<|role|>\n` + its text + `\n`, and `<|assistant|>\n` (the generation
 * prompt) ends the string. Array content keeps only its text parts, joined with `\n`; images and
 * other parts add nothing. A conversation's next turn therefore starts with the exact bytes of the
 * previous turn's messages, which is what makes multi-turn prefixes hit the prefix cache.
 */
export function renderChatPrompt(messages: readonly ChatMessageLike[]): string {
  let out = '';
  for (const m of messages) out += `<|${m.role}|>\n${messageText(m.content)}\n`;
  return `${out}<|assistant|>\n`;
}

/** Estimated prompt tokens of a chat request: `estimateTokens(renderChatPrompt(messages))`. */
export function estimateChatTokens(messages: readonly ChatMessageLike[]): number {
  return estimateTokens(renderChatPrompt(messages));
}

function messageText(content: ChatMessageLike['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  const parts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') parts.push(part);
    else if (typeof part.text === 'string' && (part.type === undefined || part.type === 'text'))
      parts.push(part.text);
  }
  return parts.join('\n');
}
