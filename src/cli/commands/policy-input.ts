/**
 * The policy `mesh policy set` writes, from its flags and `--spec JSON` or `-f FILE`. The file
 * holds either the spec alone or the whole policy (`name`, `type`, `targetModels`, `targetNodes`,
 * `spec`; also what `mesh policy get -o yaml` prints, so a policy round-trips through a file).
 * Only the shape is checked here; the meshd validates the content and lists every problem.
 */
import { readFileSync } from 'node:fs';
import type { JsonObject } from '@bufbuild/protobuf';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../runner.ts';
import { POLICY_TYPES, type PolicyTypeName } from './policy.ts';

/** Options of `mesh policy set`. */
export interface SetPolicyOptions {
  type?: PolicyTypeName;
  spec?: string;
  file?: string;
  model?: string[];
  node?: string[];
  expectedRevision?: bigint;
}

/** A policy ready to send. */
export interface PolicyDraft {
  name: string;
  type: PolicyTypeName;
  targetModels: string[];
  targetNodes: string[];
  spec: JsonObject;
}

const POLICY_KEYS = ['name', 'type', 'targetModels', 'targetNodes', 'spec'];
/** Keys of `policy get` output that the server sets: ignored when a saved policy is sent back. */
const READ_ONLY_KEYS = ['revision', 'createdAt', 'updatedAt'];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(
      `${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new UsageError(`${what} must be a list of strings`);
  return value;
}

/** The file's policy fields (all optional), or only a spec. */
function fromFile(file: string): Partial<PolicyDraft> {
  let doc = readDocument(file);
  if (isObject(doc) && isObject(doc.policy)) doc = doc.policy;
  if (!isObject(doc)) throw new UsageError(`${file} must hold a JSON object (a spec or a whole policy)`);
  if (!('spec' in doc)) return { spec: doc as JsonObject };
  const unknown = Object.keys(doc).filter((k) => !POLICY_KEYS.includes(k) && !READ_ONLY_KEYS.includes(k));
  if (unknown.length > 0)
    throw new UsageError(
      `${file}: unknown key(s) ${unknown.join(', ')} (a policy has ${POLICY_KEYS.join(', ')})`,
    );
  const { name, type, targetModels, targetNodes, spec } = doc;
  if (!isObject(spec)) throw new UsageError(`${file}: spec must be an object`);
  if (name !== undefined && typeof name !== 'string') throw new UsageError(`${file}: name must be a string`);
  if (type !== undefined && !POLICY_TYPES.includes(type as PolicyTypeName))
    throw new UsageError(`${file}: type must be one of ${POLICY_TYPES.join(', ')}`);
  return {
    spec: spec as JsonObject,
    ...(name !== undefined ? { name } : {}),
    ...(type !== undefined ? { type: type as PolicyTypeName } : {}),
    ...(targetModels !== undefined ? { targetModels: strings(targetModels, `${file}: targetModels`) } : {}),
    ...(targetNodes !== undefined ? { targetNodes: strings(targetNodes, `${file}: targetNodes`) } : {}),
  };
}

function fromSpecFlag(text: string): JsonObject {
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--spec is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(spec)) throw new UsageError('--spec must be a JSON object');
  return spec as JsonObject;
}

/** NAME and the flags, over the file's fields; a flag that contradicts the file is an error. */
export function draftPolicy(name: string | undefined, opts: SetPolicyOptions): PolicyDraft {
  const file = opts.file ? fromFile(opts.file) : {};
  const spec = opts.spec !== undefined ? fromSpecFlag(opts.spec) : file.spec;
  if (!spec) throw new UsageError('give the spec with --spec JSON or -f FILE');
  if (name && file.name && name !== file.name)
    throw new UsageError(`NAME "${name}" differs from the file's name "${file.name}"`);
  if (opts.type && file.type && opts.type !== file.type)
    throw new UsageError(`--type ${opts.type} differs from the file's type ${file.type}`);
  const finalName = name || file.name;
  if (!finalName) throw new UsageError('missing policy NAME (an argument, or `name` in the file)');
  const type = opts.type ?? file.type;
  if (!type) throw new UsageError(`missing --type (${POLICY_TYPES.join('|')}), or \`type\` in the file`);
  return {
    name: finalName,
    type,
    targetModels: opts.model ?? file.targetModels ?? [],
    targetNodes: opts.node ?? file.targetNodes ?? [],
    spec,
  };
}
