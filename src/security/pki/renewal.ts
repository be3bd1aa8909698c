/**
 * Renewal by meshd itself, for nodes that hold the CA folder's intermediate (`security.tls.renew`):
 * once `renewAtFraction` of the certificate's lifetime has passed, issue a fresh one into the same
 * files; the cert reloader then swaps it in without a restart. Nodes without the intermediate get
 * their certificates from the operator's tooling (`mesh cert issue`, a cron job, a secret
 * manager) and only reload the files.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { issueToFiles, type IssuedFiles } from './issue-files.ts';
import { formatSpiffeId, type IdentityKind } from './spiffe.ts';
import { readCaMeta } from './ca-dir.ts';

/** Renew at two thirds of the lifetime: 8 h of slack on a 24 h certificate for a failed attempt. */
export const DEFAULT_RENEW_AT_FRACTION = 2 / 3;
/** Wait before another try after a failure (or when a fresh certificate is due again at once). */
const RETRY_MS = 60_000;
/** setTimeout's largest delay; a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When a certificate valid from `notBefore` to `notAfter` should be renewed. */
export function renewalTime(notBefore: Date, notAfter: Date, fraction = DEFAULT_RENEW_AT_FRACTION): Date {
  return new Date(notBefore.getTime() + fraction * (notAfter.getTime() - notBefore.getTime()));
}

/** What `startRenewal` keeps current. */
export interface RenewalOptions {
  /** CA folder with intermediate.crt and intermediate.key. */
  caDir: string;
  nodeId: string;
  roles: readonly string[];
  kind?: IdentityKind;
  /** The files meshd serves (security.tls.cert / key). */
  certFile: string;
  keyFile: string;
  renewAtFraction?: number;
  hours?: number;
  dns?: readonly string[];
  ips?: readonly string[];
  onRenew?: (issued: IssuedFiles) => void;
  onError?: (err: Error) => void;
  /** Injectable wall clock (tests). */
  now?: () => Date;
}

/** A running renewal. */
export interface Renewal {
  /** When the next renewal is planned (undefined before the first check finished). */
  nextAt(): Date | undefined;
  /** Checks now and renews when due (or when the files are missing or hold another identity). */
  check(): Promise<void>;
  stop(): void;
}

/** Starts renewing the node's certificate; the first check runs at once. */
export function startRenewal(opts: RenewalOptions): Renewal {
  const now = opts.now ?? (() => new Date());
  const kind = opts.kind ?? 'node';
  let timer: NodeJS.Timeout | undefined;
  let next: Date | undefined;
  let stopped = false;

  const arm = (at: Date) => {
    next = at;
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(
      () => void check(),
      Math.min(Math.max(0, at.getTime() - now().getTime()), MAX_TIMER_MS),
    );
    timer.unref();
  };

  /** The current file's renewal time, or undefined when it must be replaced now. */
  const currentDue = async (): Promise<Date | undefined> => {
    try {
      const cert = new X509Certificate(await readFile(opts.certFile, 'utf8'));
      const { trustDomain } = await readCaMeta(opts.caDir);
      // A certificate of another identity (renamed node, changed trust domain) is replaced at once.
      if (!cert.subjectAltName?.split(', ').includes(`URI:${formatSpiffeId(trustDomain, kind, opts.nodeId)}`))
        return undefined;
      return renewalTime(cert.validFromDate, cert.validToDate, opts.renewAtFraction);
    } catch {
      return undefined;
    }
  };

  let running: Promise<void> | undefined;
  // One check at a time: a manual check during the timer's must not issue twice.
  const check = (): Promise<void> => (running ??= checkOnce().finally(() => (running = undefined)));
  const checkOnce = async (): Promise<void> => {
    if (stopped) return;
    try {
      const due = await currentDue();
      if (due && due > now()) return arm(due);
      const issued = await issueToFiles({
        caDir: opts.caDir,
        kind,
        id: opts.nodeId,
        roles: opts.roles,
        certFile: opts.certFile,
        keyFile: opts.keyFile,
        bundleFile: false,
        notBefore: new Date(now().getTime() - 60_000),
        ...(opts.hours !== undefined ? { hours: opts.hours } : {}),
        ...(opts.dns ? { dns: opts.dns } : {}),
        ...(opts.ips ? { ips: opts.ips } : {}),
      });
      if (stopped) return;
      opts.onRenew?.(issued);
      const at = renewalTime(issued.notBefore, issued.notAfter, opts.renewAtFraction);
      // Due again at once: the intermediate expires before the new certificate would be half used.
      if (at <= now()) {
        opts.onError?.(
          new Error(
            `the intermediate CA in ${opts.caDir} expires at ${issued.notAfter.toISOString()}; rotate the CA`,
          ),
        );
        return arm(new Date(now().getTime() + RETRY_MS));
      }
      arm(at);
    } catch (err) {
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      arm(new Date(now().getTime() + RETRY_MS));
    }
  };

  void check();
  return {
    nextAt: () => next,
    check,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
