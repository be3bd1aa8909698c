/** Writing certificate and key files so that a reader never sees half of one. */
import { randomBytes } from 'node:crypto';
import { chmod, rename, writeFile } from 'node:fs/promises';

/** Mode of private key files: readable by their owner only. */
export const KEY_MODE = 0o600;
/** Mode of certificate files: public material. */
export const CERT_MODE = 0o644;

/**
 * Writes `path` through a temporary file in the same folder and a rename, so that meshd's
 * reloader (which watches the folder) sees either the old file or the new one, never a torn one.
 * The mode is set on the temporary file, before the content is in place under its name.
 */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode, flag: 'wx' });
  await chmod(tmp, mode); // the umask may have cut the mode given to writeFile
  await rename(tmp, path);
}
