/**
 * meshd's API port: gRPC (HTTP/2 cleartext with prior knowledge), gRPC-Web and Connect JSON over
 * HTTP/1.1, all on ONE port. Node's cleartext http2 server does not speak HTTP/1.1, so a plain
 * TCP server sniffs the first bytes of each connection for the HTTP/2 preface and hands the socket
 * to an http2 or an http server. Both run the same Connect handler.
 *
 * With TLS (`security.tls`) ALPN says which of the two a connection speaks, so there is nothing to
 * sniff. The port asks for a client certificate but does not require one at the TLS layer: people
 * with bearer tokens and no certificate must still get through to the auth interceptor, which
 * refuses a certificate TLS could not verify (`authorized` in `PEER_INFO`) and any caller without
 * credentials.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions, type TLSSocket } from 'node:tls';
import { createContextValues, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { bind } from '../core/listen.ts';
import type { Logger } from '../observability/log.ts';
import { PEER_INFO, type PeerInfo } from '../security/auth/peer.ts';
import type { LinkTls } from '../security/pki/link-tls.ts';
import { createErrorInterceptor } from './rpc-errors.ts';

/** What every HTTP/2 connection starts with (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** How long a new connection may take to send enough bytes to tell HTTP/2 from HTTP/1.1. */
const SNIFF_TIMEOUT_MS = 10_000;
/**
 * How long an HTTP/1.1 connection may go without a request in progress: the whole header block of
 * the next request must arrive within it (an absolute deadline, which a client trickling one byte
 * at a time cannot extend), and an idle keep-alive connection closes after it.
 */
const HEADERS_TIMEOUT_MS = 10_000;

/** Options of `createApiServer`. */
export interface ApiServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Registers the services (`router.service(StatePlane, impl)`). */
  routes: (router: ConnectRouter) => void;
  logger?: Logger;
  /** How long `close()` lets open requests finish before it cuts their connections. */
  closeGraceMs?: number;
  /** Deadline for an HTTP/1.1 request's headers, and idle keep-alive limit. Default 10 s. */
  headersTimeoutMs?: number;
  /**
   * Run inside the error mapping, outermost first: the auth interceptor (src/security/auth), which
   * finds each call's peer address and client certificate under `PEER_INFO`.
   */
  interceptors?: Interceptor[];
  /** Serve TLS with this node's certificate (reloaded: new connections get the current one). */
  tls?: Pick<LinkTls, 'current' | 'onChange'>;
}

/** A listening API server. */
export interface ApiServer {
  /** `http://host:port` (`https://` with TLS), with the real port. */
  readonly url: string;
  readonly port: number;
  /** Ends open streams (watches), closes every connection, resolves once the port is free. */
  close(): Promise<void>;
}

/**
 * The caller's address, and on TLS its client certificate and the handshake's verdict on it.
 * Property reads only: an HTTP/2 request's socket is a proxy that forwards reads to the TLS socket
 * but answers `in` for the stream.
 */
function peerInfo(socket: Socket | TLSSocket): PeerInfo {
  const info: PeerInfo = socket.remoteAddress !== undefined ? { remoteAddress: socket.remoteAddress } : {};
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate === 'function') {
    const certificate = tls.getPeerCertificate(true);
    if (Object.keys(certificate).length > 0) {
      info.certificate = certificate;
      info.authorized = tls.authorized === true;
      if (tls.authorizationError) info.authorizationError = String(tls.authorizationError);
    }
  }
  return info;
}

/** TLS options of the API port; all of them on every reload (`setSecureContext` resets them). */
function tlsServerOptions(state: ReturnType<LinkTls['current']>): TlsOptions {
  return {
    ...state.options,
    ALPNProtocols: ['h2', 'http/1.1'],
    requestCert: true,
    // Token holders without a certificate must connect; the auth interceptor judges the rest.
    rejectUnauthorized: false,
    handshakeTimeout: SNIFF_TIMEOUT_MS,
  };
}

/** Starts the API server; resolves once it listens. */
export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { logger } = options;
  const closeGraceMs = options.closeGraceMs ?? 1000;
  const headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  // Aborting this aborts every handler's `context.signal`, which is how watch streams learn to end.
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    routes: options.routes,
    interceptors: [createErrorInterceptor(logger), ...(options.interceptors ?? [])],
    contextValues: (req) => createContextValues().set(PEER_INFO, peerInfo(req.socket)),
    shutdownSignal: shutdown.signal,
  });

  // requestTimeout 0: a Connect server stream (a watch) may legitimately stay open for days.
  // (Node runs those checks only for servers that listen themselves; this states the intent.)
  const http1 = createHttpServer({ requestTimeout: 0 }, handler);
  const http2 = createHttp2Server({}, handler);
  const sessions = new Set<Http2Session>();
  http2.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  http2.on('sessionError', (err) => logger?.debug({ err }, 'http2 session error'));

  const sockets = new Set<Socket>();
  // The http server never listens itself, so its closeIdleConnections() knows no connections:
  // we count in-flight requests per HTTP/1.1 socket to close each one as soon as it is idle.
  const http1Busy = new Map<Socket, number>();
  let closingStarted = false;
  const endIfIdle = (socket: Socket) => {
    if (closingStarted && !http1Busy.has(socket)) socket.end();
  };
  // Node checks header deadlines only on servers that listen themselves; this one is handed its
  // sockets, so the deadline is ours: armed while no request is in progress on the socket.
  const headerDeadlines = new Map<Socket, NodeJS.Timeout>();
  const armHeaderDeadline = (socket: Socket) => {
    clearTimeout(headerDeadlines.get(socket));
    headerDeadlines.set(
      socket,
      setTimeout(() => {
        if (!http1Busy.has(socket)) socket.destroy();
      }, headersTimeoutMs).unref(),
    );
  };
  const clearHeaderDeadline = (socket: Socket) => {
    clearTimeout(headerDeadlines.get(socket));
    headerDeadlines.delete(socket);
  };
  http1.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    clearHeaderDeadline(socket);
    http1Busy.set(socket, (http1Busy.get(socket) ?? 0) + 1);
    if (closingStarted) res.setHeader('connection', 'close');
    res.once('close', () => {
      const left = (http1Busy.get(socket) ?? 1) - 1;
      if (left > 0) http1Busy.set(socket, left);
      else {
        http1Busy.delete(socket);
        if (!socket.destroyed) armHeaderDeadline(socket);
      }
      endIfIdle(socket);
    });
  });
  const http1Sockets = new Set<Socket>();
  // Connected but silent so far: neither server owns them yet.
  const sniffing = new Set<Socket>();

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      http1Sockets.delete(socket);
      http1Busy.delete(socket);
      sniffing.delete(socket);
      clearHeaderDeadline(socket);
    });
    // The http servers attach their own handlers later; until then a reset must not crash us.
    socket.on('error', (err) => logger?.debug({ err }, 'api connection error'));
  };
  const handOff = (socket: Socket, isH2: boolean) => {
    if (!isH2) {
      http1Sockets.add(socket);
      armHeaderDeadline(socket);
    }
    (isH2 ? http2 : http1).emit('connection', socket);
  };

  let unwatchTls: (() => void) | undefined;
  let net: NetServer;
  const { tls } = options;
  if (tls) {
    const server = createTlsServer(tlsServerOptions(tls.current()), (socket) => {
      track(socket);
      handOff(socket, socket.alpnProtocol === 'h2');
    });
    // The raw socket too: close() must be able to end one still in its handshake.
    server.on('connection', (raw: Socket) => {
      sockets.add(raw);
      raw.on('close', () => sockets.delete(raw));
    });
    server.on('tlsClientError', (err) => logger?.debug({ err }, 'api TLS handshake failed'));
    unwatchTls = tls.onChange((state) => server.setSecureContext(tlsServerOptions(state)));
    net = server;
  } else {
    net = createNetServer((socket) => {
      track(socket);
      sniff(socket);
    });
  }

  function sniff(socket: Socket): void {
    let seen = Buffer.alloc(0);
    sniffing.add(socket);
    // A client that connects and says (almost) nothing must not hold a socket forever.
    const onSilence = () => socket.destroy();
    socket.setTimeout(SNIFF_TIMEOUT_MS, onSilence);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const isH2Prefix = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      // Wait for more bytes only while they still could be the preface.
      if (isH2Prefix && n < H2_PREFACE.length) return;
      socket.off('data', onData);
      socket.setTimeout(0);
      socket.off('timeout', onSilence);
      sniffing.delete(socket);
      socket.pause();
      socket.unshift(seen);
      handOff(socket, isH2Prefix);
      // The http server listens for 'data' but a socket paused by us stays paused; http2 reads
      // the buffered bytes itself and then takes over the handle.
      if (!isH2Prefix) socket.resume();
    };
    socket.on('data', onData);
  }

  const bound = await bind(net, { host: options.host, port: options.port, configKey: 'api' });
  const { port } = bound;
  const url = tls ? bound.url.replace(/^http:/, 'https:') : bound.url;
  logger?.info({ url }, 'api listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      closingStarted = true;
      unwatchTls?.();
      // Ends every handler's context: watch streams return and their responses complete.
      shutdown.abort();
      const deadline = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, closeGraceMs);
      net.close(() => {
        clearTimeout(deadline);
        resolve();
      });
      // GOAWAY: no new streams; the session closes once its open streams have finished.
      for (const session of sessions) session.close();
      for (const socket of http1Sockets) endIfIdle(socket);
      for (const socket of sniffing) socket.destroy();
    });
    return closing;
  };

  return { url, port, close };
}
