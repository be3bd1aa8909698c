/** Loads a meshd YAML config file: YAML syntax errors and schema problems are reported together. */
import { readFile } from 'node:fs/promises';
import { parseDocument, stringify } from 'yaml';
import { checkConfig, type ConfigProblem, type MeshConfig } from '../core/config.ts';
import { MeshError } from '../core/errors.ts';

export type LoadResult = { ok: true; config: MeshConfig } | { ok: false; problems: ConfigProblem[] };

/** Parses YAML text and validates it; returns every problem found. */
export function checkConfigText(text: string): LoadResult {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: `(yaml line ${e.linePos?.[0]?.line ?? '?'})`,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  }
  return checkConfig(doc.toJS() ?? {});
}

/** Reads a config file's text; a missing or unreadable file is `invalid_config`. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new MeshError('invalid_config', `cannot read config ${path}: ${(err as Error).message}`);
  }
}

/** Reads and validates a config file, throwing `invalid_config` with every problem listed. */
export async function loadConfigFile(path: string): Promise<MeshConfig> {
  const result = checkConfigText(await readConfigText(path));
  if (result.ok) return result.config;
  throw new MeshError('invalid_config', formatProblems(path, result.problems), { problems: result.problems });
}

export function formatProblems(path: string, problems: ConfigProblem[]): string {
  return [`${path}: ${problems.length} problem(s)`, ...problems.map((p) => `  ${p.path}: ${p.message}`)].join(
    '\n',
  );
}

export function configToYaml(config: MeshConfig): string {
  return stringify(config);
}
