/**
 * mTLS for the net transport's reliable (TCP) channel. Both ends present a certificate and both
 * check the other's with the injected `verify` (the security module's SPIFFE check, wired by the
 * agent: this module knows nothing of CAs). The TLS context is read for every new connection, so
 * a renewed certificate or a rotated trust bundle is used from the next connection on.
 *
 * Why each choice:
 * - The server picks its context in `SNICallback`, the only per-connection hook of `tls.Server`
 *   that takes a ready `SecureContext`; so the dialer always sends `GOSSIP_SERVER_NAME`. A client
 *   without it gets no certificate and fails the handshake (counted like any refusal).
 * - Node's own rejection is off on both ends (`rejectUnauthorized: false`) and `verify` decides
 *   instead, reading Node's chain result (`socket.authorized`) among its checks: a refusal then
 *   has a reason to log ("expired", "another CA", "not the expected node"), where Node's rejection
 *   gives the server only "socket hang up". Nothing is read or written before `verify` passed.
 * - With TLS 1.3 a client finishes its handshake before the server has judged its certificate,
 *   and a refused client sees a plain close. So the receiver acknowledges a frame with one byte
 *   (`ACK`) before closing, and only that byte makes a send delivered.
 * - Hostnames are not checked: members are dialled by address and identified by SPIFFE ID.
 */
import type { Socket } from 'node:net';
import { connect, createServer, type SecureContext, type TLSSocket } from 'node:tls';

/** TLS material and the peer check for the reliable channel. */
export interface NetTlsOptions {
  /** The context to use now: certificate chain, key and trust bundle (a reloader's current one). */
  context: () => SecureContext;
  /**
   * Checks the peer of a finished handshake (chain, expiry, SPIFFE ID of a node of the trust
   * domain) and returns its node id; throws, with a message saying why, to refuse it.
   */
  verify: (socket: TLSSocket) => string;
  /** Told of refused connections, at most once per peer per `refusalLogIntervalMs`. */
  onRefused?: (refusal: TlsRefusal) => void;
  /** Default 60 s. */
  refusalLogIntervalMs?: number;
}

/** One refused connection, as reported to `onRefused`. */
export interface TlsRefusal {
  /** `inbound`: a peer dialled us; `outbound`: we refused the node we dialled. */
  direction: 'inbound' | 'outbound';
  /** Inbound: the peer's ip:port; outbound: the address dialled. */
  peer: string;
  /** Outbound: the node id the dialler expected there, when it knew one. */
  expectedId?: string;
  /** The URI SAN of the certificate the peer presented, when it presented one. */
  presented?: string;
  reason: string;
  /** Refusals of this peer not reported since its previous report. */
  suppressed: number;
}

/** Server name the dialler sends: it makes the server choose its current context (SNICallback). */
export const GOSSIP_SERVER_NAME = 'gossip.infermesh.invalid';
/** The receiver's acknowledgement of a whole frame. */
export const ACK = 0x06;

/** What a refusal looks like before rate limiting; `key` identifies the peer for the limiter. */
export type RefusalSink = (refusal: Omit<TlsRefusal, 'suppressed'>, key: string) => void;

/** The URI SAN of the socket's peer certificate (its claimed SPIFFE ID), if any. */
export function presentedUri(socket: TLSSocket): string | undefined {
  const san = socket.getPeerCertificate()?.subjectaltname ?? '';
  return /URI:([^,\s]+)/.exec(san)?.[1];
}

const why = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Wraps accepted TCP connections in TLS (a client certificate required) and hands each verified
 * one to `onPeer` with the peer's node id; refused ones go to `refused` and are destroyed.
 */
export function createTlsAcceptor(
  o: NetTlsOptions,
  timeoutMs: number,
  onPeer: (socket: TLSSocket, nodeId: string) => void,
  refused: RefusalSink,
): (raw: Socket) => void {
  const server = createServer({
    SNICallback: (_name, cb) => {
      try {
        cb(null, o.context());
      } catch (err) {
        cb(err as Error);
      }
    },
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: timeoutMs,
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    let nodeId: string;
    try {
      nodeId = o.verify(socket);
    } catch (err) {
      const presented = presentedUri(socket);
      const peer = `${socket.remoteAddress}:${socket.remotePort}`;
      // Per host and certificate: one bad node is one log line per interval, whatever its port.
      const fp = socket.getPeerCertificate()?.fingerprint256 ?? 'none';
      refused(
        { direction: 'inbound', peer, ...(presented && { presented }), reason: why(err) },
        `in|${socket.remoteAddress}|${fp}`,
      );
      socket.destroy();
      return;
    }
    onPeer(socket, nodeId);
  });
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    // A dialler that hangs up mid-handshake refused us, or was never TLS: its own count, not ours.
    if (err.code === 'ECONNRESET') return;
    refused(
      {
        direction: 'inbound',
        peer: `${socket.remoteAddress}:${socket.remotePort}`,
        reason: `TLS handshake failed: ${err.code ?? why(err)}`,
      },
      `in|${socket.remoteAddress}|handshake`,
    );
  });
  return (raw) => {
    raw.setTimeout(timeoutMs, () => raw.destroy());
    raw.on('error', () => raw.destroy());
    server.emit('connection', raw);
  };
}

/**
 * Dials `host:port` over TLS with the current context and calls `ready` once the server's
 * certificate passed `verify` (and is node `expectedId`, when given). A refused server is reported
 * to `refused` and the socket destroyed with an error saying why.
 */
export function dialTls(
  o: NetTlsOptions,
  target: { host: string; port: number; address: string },
  expectedId: string | undefined,
  ready: (socket: TLSSocket) => void,
  refused: RefusalSink,
): TLSSocket {
  const socket = connect({
    host: target.host,
    port: target.port,
    servername: GOSSIP_SERVER_NAME,
    secureContext: o.context(),
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  socket.on('secureConnect', () => {
    let reason: string | undefined;
    try {
      const id = o.verify(socket);
      if (expectedId !== undefined && id !== expectedId)
        reason = `the peer is node "${id}", not the expected "${expectedId}"`;
    } catch (err) {
      reason = why(err);
    }
    if (reason === undefined) return ready(socket);
    const presented = presentedUri(socket);
    refused(
      {
        direction: 'outbound',
        peer: target.address,
        ...(expectedId !== undefined && { expectedId }),
        ...(presented && { presented }),
        reason,
      },
      `out|${target.address}`,
    );
    socket.destroy(new Error(`refused ${target.address}: ${reason}`));
  });
  return socket;
}
