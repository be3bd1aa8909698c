/**
 * Parses a KServe v2 infer request for the Triton flavour's one text model, shaped like a model
 * of Triton's vLLM backend: a BYTES `text_input` of shape [1], optional `sampling_parameters`
 * (a BYTES JSON string, e.g. `{"max_tokens": 32}`), `exclude_input_in_output` (BOOL) and
 * `stream` (BOOL, refused: the infer endpoint answers once); one BYTES output `text_output`.
 * Problems are Triton-style 400s with `{"error": "..."}`.
 */
import { tokenIds } from '../../../core/tokens.ts';

/** vLLM's `SamplingParams.max_tokens` default, which Triton's vLLM backend keeps. */
export const TRITON_DEFAULT_MAX_TOKENS = 16;

/** The model's inputs and their datatypes, as its metadata lists them. */
export const TRITON_INPUTS = {
  text_input: 'BYTES',
  stream: 'BOOL',
  sampling_parameters: 'BYTES',
  exclude_input_in_output: 'BOOL',
} as const;

export interface TritonInfer {
  id?: string;
  prompt: string;
  promptTokenIds: number[];
  maxTokens: number;
  excludeInput: boolean;
}

/** A KServe v2 error answer. */
export class TritonError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }

  body(): { error: string } {
    return { error: this.message };
  }
}

const bad = (message: string) => new TritonError(400, message);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function flatten(data: unknown): unknown[] {
  return Array.isArray(data) ? data.flatMap(flatten) : [data];
}

function readInput(input: unknown, model: string): { name: keyof typeof TRITON_INPUTS; values: unknown[] } {
  if (!isRecord(input) || typeof input.name !== 'string') throw bad('each input must have a string "name"');
  const { name, datatype, shape, data } = input;
  if (!(name in TRITON_INPUTS)) throw bad(`unexpected inference input '${name}' for model '${model}'`);
  const expected = TRITON_INPUTS[name as keyof typeof TRITON_INPUTS];
  if (datatype !== expected) {
    throw bad(
      `inference input '${name}' data-type is '${String(datatype)}', but model '${model}' expects '${expected}'`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw bad(`inference input '${name}' must have a shape of non-negative integers`);
  }
  const values = flatten(data);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (data === undefined || values.length !== size) {
    throw bad(
      `unexpected number of elements for inference input '${name}': shape [${shape.join(',')}] needs ${size}, got ${data === undefined ? 0 : values.length}`,
    );
  }
  if (values.length !== 1)
    throw bad(`inference input '${name}' of model '${model}' takes one element (shape [1])`);
  const ok = expected === 'BYTES' ? typeof values[0] === 'string' : typeof values[0] === 'boolean';
  if (!ok) throw bad(`inference input '${name}' holds data that is not ${expected}`);
  return { name: name as keyof typeof TRITON_INPUTS, values };
}

function maxTokensOf(sampling: string | undefined, parameters: unknown): number {
  let value: unknown;
  if (sampling !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(sampling);
    } catch {
      throw bad("input 'sampling_parameters' must be a JSON object string");
    }
    if (!isRecord(parsed)) throw bad("input 'sampling_parameters' must be a JSON object string");
    value = parsed.max_tokens;
  }
  if (value === undefined && isRecord(parameters)) value = parameters.max_tokens;
  if (value === undefined || value === null) return TRITON_DEFAULT_MAX_TOKENS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw bad('max_tokens must be a positive integer');
  }
  return value;
}

/** Checks a decoded infer body for `model`. */
export function parseTritonInfer(body: unknown, model: string): TritonInfer {
  if (!isRecord(body)) throw bad('the request body must be a JSON object');
  if (body.id !== undefined && typeof body.id !== 'string') throw bad('"id" must be a string');
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) {
    throw bad(`expected at least 1 input for model '${model}', got 0`);
  }
  const inputs = new Map<string, unknown>();
  for (const raw of body.inputs) {
    const { name, values } = readInput(raw, model);
    if (inputs.has(name)) throw bad(`input '${name}' is given more than once`);
    inputs.set(name, values[0]);
  }
  const prompt = inputs.get('text_input');
  if (typeof prompt !== 'string') throw bad(`expected input 'text_input' for model '${model}'`);
  if (inputs.get('stream') === true) {
    throw bad('streaming is not supported by the infer endpoint; use generate_stream or gRPC');
  }
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw bad('"outputs" must be an array');
    for (const o of body.outputs) {
      const name = isRecord(o) ? o.name : undefined;
      if (name !== 'text_output')
        throw bad(`unexpected inference output '${String(name)}' for model '${model}'`);
    }
  }
  const promptTokenIds = tokenIds(prompt);
  if (promptTokenIds.length === 0) throw bad("input 'text_input' must not be empty");
  return {
    ...(typeof body.id === 'string' ? { id: body.id } : {}),
    prompt,
    promptTokenIds,
    maxTokens: maxTokensOf(inputs.get('sampling_parameters') as string | undefined, body.parameters),
    excludeInput: inputs.get('exclude_input_in_output') === true,
  };
}
