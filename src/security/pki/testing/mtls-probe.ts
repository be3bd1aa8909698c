/**
 * A real mTLS server and client for tests: the server verifies each client with `verifyPeer` and
 * answers one JSON line (the identity, or the MeshError code and message); the client verifies the
 * server the same way. Shipped with the code so that the link wiring can test with it too.
 */
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions, type Server, type TlsOptions } from 'node:tls';
import { MeshError } from '../../../core/errors.ts';
import { verifyPeer, type PeerIdentity, type VerifyPeerOptions } from '../verify-peer.ts';

/** What the server answered about the client. */
export type ProbeReply = { ok: true; identity: PeerIdentity } | { ok: false; code: string; message: string };

/** A running probe server. */
export interface ProbeServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Starts a TLS server on 127.0.0.1:0 asking for client certificates. */
export async function startProbeServer(tls: TlsOptions, verify: VerifyPeerOptions): Promise<ProbeServer> {
  const server = createServer({ requestCert: true, rejectUnauthorized: true, ...tls }, (socket) => {
    let reply: ProbeReply;
    try {
      reply = { ok: true, identity: verifyPeer(socket, verify) };
    } catch (err) {
      const e = MeshError.from(err);
      reply = { ok: false, code: e.code, message: e.message };
    }
    socket.end(`${JSON.stringify(reply)}\n`);
  });
  server.on('tlsClientError', () => {}); // a refused handshake is what several tests expect
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The client's view of one connection. */
export interface ProbeResult {
  /** The server's answer; undefined when the handshake or the connection failed. */
  reply?: ProbeReply;
  /** The server as the client verified it (when the handshake succeeded). */
  server?: PeerIdentity;
  /** Serial of the server's certificate. */
  serverSerial?: string;
  error?: string;
}

/** Connects with the given client certificate (or none) and reads the server's answer (5 s at most). */
export function probe(
  port: number,
  tls: ConnectionOptions,
  verify?: VerifyPeerOptions,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const result: ProbeResult = {};
    let data = '';
    const socket = connect({ host: '127.0.0.1', port, ...tls }, () => {
      result.serverSerial = socket.getPeerCertificate().serialNumber?.toLowerCase();
      try {
        if (verify) result.server = verifyPeer(socket, verify);
      } catch (err) {
        result.error = `server refused by client: ${MeshError.from(err).message}`;
      }
    });
    const timer = setTimeout(() => socket.destroy(new Error('probe timed out')), 5000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (err: Error) => (result.error ??= err.message));
    socket.on('close', () => {
      clearTimeout(timer);
      if (data.trim()) result.reply = JSON.parse(data) as ProbeReply;
      resolve(result);
    });
  });
}
