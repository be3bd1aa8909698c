/**
 * Loads the verbatim samples kept under `*\/fixtures/`. The files stay byte-for-byte as the
 * reference doc has them; the doc's own markers are undone here, at load time, so the files can be
 * compared with the doc by eye.
 */
import { readFileSync } from 'node:fs';

const CUT = '[... cut ...]';

export interface FixtureOptions {
  /** Strip the `# ` every line carries when a sample was pasted as shell comments. */
  uncomment?: boolean;
  /** Drop lines that start with `$ ` (the shell command printed above a sample). */
  dropShell?: boolean;
}

/** Reads a fixture relative to `base` (pass `import.meta.url`), dropping `[... cut ...]` markers. */
export function readFixture(base: string, relPath: string, options: FixtureOptions = {}): string {
  const raw = readFileSync(new URL(relPath, base), 'utf8');
  const lines = raw
    .split('\n')
    .filter((l) => l !== CUT)
    .filter((l) => !(options.dropShell && l.startsWith('$ ')))
    .map((l) => (options.uncomment && l.startsWith('# ') ? l.slice(2) : l));
  return lines.join('\n');
}
