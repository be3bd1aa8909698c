/**
 * Keeps a node's certificate, key and trust bundle current without a restart. It watches the
 * folders of the three files (a folder, not the file: certificates are replaced by rename, and a
 * watch on the old inode would go quiet) and re-reads them on a timer as well, since fs.watch
 * misses events on some file systems (NFS, some container mounts). A new set is taken only when it
 * makes a working TLS context: a key that does not match its certificate yet (one file renamed,
 * the other not) keeps the old set until the pair is whole.
 */
import { X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';

/** The files to watch and who to tell. */
export interface CertReloaderOptions {
  certFile: string;
  keyFile: string;
  /**
   * The trust bundle (bundle.pem). Absent for a server certificate that verifies nobody (the
   * router port's, from a public CA): `options.ca` is then empty.
   */
  caFile?: string;
  /** Called after a new set is in place (not for the first load). */
  onChange?: (state: CertState) => void;
  /** Called when a changed set stays unusable after the retries; the old set stays in use. */
  onError?: (err: Error) => void;
  /** Re-read period in ms (default 10 s). */
  pollMs?: number;
  /** Wait after a watch event before reading, so that a burst of writes is read once (default 50 ms). */
  debounceMs?: number;
}

/** One loaded set. */
export interface CertState {
  /** What `tls.createServer` / `server.setSecureContext` / `tls.connect` take. */
  options: { cert: string; key: string; ca: string };
  secureContext: SecureContext;
  /** Not-after of the leaf. */
  expiresAt: Date;
  serial: string;
}

/** A running reloader. */
export interface CertReloader {
  /** The set in use now. */
  current(): CertState;
  /** Not-after of the leaf in use. */
  readonly expiresAt: Date;
  /** Reads the files now; resolves true when a new set was taken. */
  reload(): Promise<boolean>;
  close(): void;
}

const RETRIES = 5;

async function load(opts: CertReloaderOptions): Promise<CertState> {
  const [cert, key, ca] = await Promise.all([
    readFile(opts.certFile, 'utf8'),
    readFile(opts.keyFile, 'utf8'),
    opts.caFile === undefined ? '' : readFile(opts.caFile, 'utf8'),
  ]);
  const options = { cert, key, ca };
  // Throws on a key that does not match.
  const secureContext = createSecureContext(ca === '' ? { cert, key } : options);
  const leaf = new X509Certificate(cert);
  return { options, secureContext, expiresAt: leaf.validToDate, serial: leaf.serialNumber.toLowerCase() };
}

const same = (a: CertState['options'], b: CertState['options']) =>
  a.cert === b.cert && a.key === b.key && a.ca === b.ca;

/** Loads the files (throws when they are not a working set) and starts watching them. */
export async function createCertReloader(opts: CertReloaderOptions): Promise<CertReloader> {
  let state = await load(opts);
  let closed = false;
  let failures = 0;
  let debounce: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;

  const attempt = async (): Promise<boolean> => {
    let next: CertState;
    try {
      next = await load(opts);
    } catch (err) {
      // Half-replaced files are normal for a moment; retry soon, report only if it persists.
      if (++failures === RETRIES) opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      else if (failures < RETRIES) schedule(50 * failures);
      return false;
    }
    failures = 0;
    if (closed || same(next.options, state.options)) return false;
    state = next;
    opts.onChange?.(state);
    return true;
  };
  const reload = (): Promise<boolean> => {
    running ??= attempt().finally(() => (running = undefined));
    return running;
  };
  const schedule = (ms: number) => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => void reload(), ms);
    debounce.unref();
  };

  const names = new Map<string, Set<string>>();
  for (const f of [opts.certFile, opts.keyFile, ...(opts.caFile === undefined ? [] : [opts.caFile])]) {
    const set = names.get(dirname(f)) ?? new Set<string>();
    set.add(basename(f));
    names.set(dirname(f), set);
  }
  const watchers: FSWatcher[] = [];
  for (const [dir, files] of names) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (!name || files.has(name.toString())) schedule(opts.debounceMs ?? 50);
      });
      w.on('error', () => w.close()); // the poll below still covers this folder
      watchers.push(w);
    } catch {
      // No watch on this file system: the poll is enough.
    }
  }
  const poll = setInterval(() => void reload(), opts.pollMs ?? 10_000);
  poll.unref();

  return {
    current: () => state,
    get expiresAt() {
      return state.expiresAt;
    },
    reload,
    close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(debounce);
      for (const w of watchers) w.close();
    },
  };
}
