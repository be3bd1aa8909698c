/**
 * The membership transport on a real network: one UDP socket for datagrams and a TCP listener on
 * the same port for the reliable channel, as memberlist does. A reliable message is one TCP
 * connection carrying one frame (u32 big-endian length, then the bytes); the receiver closes it
 * after the frame. Frames over `maxReliableBytes` and connections idle past the timeout are cut,
 * so a stray or hostile peer can hold neither memory nor sockets.
 *
 * With `tls`, the TCP channel is mTLS (net-tls.ts): both ends verified, the peer's node id handed
 * to the receiver, refusals counted (`stats().tlsRefused`) and reported at most once per peer per
 * interval. UDP cannot carry TLS: datagrams stay authenticated by the member's keyring alone.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { MeshError } from '../core/errors.ts';
import { ACK, createTlsAcceptor, dialTls, type NetTlsOptions, type RefusalSink } from './net-tls.ts';
import { createPeerLogLimiter } from './peer-log-limiter.ts';
import type { ReceiveHandler, Transport, TransportStats } from './transport.ts';

export interface NetTransportOptions {
  /** Address to bind (both UDP and TCP). */
  host: string;
  /** Port to bind; 0 picks a free one (the same for UDP and TCP). */
  port: number;
  /** Address announced to peers, when it differs from the bound one (NAT, wildcard bind). */
  advertise?: string;
  /** Largest datagram; 1,400 bytes fits an Ethernet MTU with headers to spare. */
  maxPacketBytes?: number;
  /** Largest reliable message (push-pull state of a large cluster). */
  maxReliableBytes?: number;
  /** A reliable send or receive that takes longer fails. */
  reliableTimeoutMs?: number;
  /** mTLS on the TCP channel (both ends present and verify node certificates); plain TCP without. */
  tls?: NetTlsOptions | undefined;
}

export interface NetTransport extends Transport {
  stats(): TransportStats;
  close(): Promise<void>;
}

const FRAME_HEADER = 4;

/** Binds UDP and TCP on `host:port` (one port for both) and resolves with the transport. */
export async function createNetTransport(o: NetTransportOptions): Promise<NetTransport> {
  const maxReliable = o.maxReliableBytes ?? 4 * 1024 * 1024;
  const timeoutMs = o.reliableTimeoutMs ?? 10_000;
  let handler: ReceiveHandler | undefined;
  const family = o.host.includes(':') ? 'udp6' : 'udp4';
  const udp = createSocket({ type: family });
  const stats: TransportStats = { tlsRefused: 0 };
  const limiter = createPeerLogLimiter({ intervalMs: o.tls?.refusalLogIntervalMs ?? 60_000 });
  const refused: RefusalSink = (refusal, key) => {
    stats.tlsRefused++;
    const suppressed = limiter.take(key);
    if (suppressed !== undefined) o.tls?.onRefused?.({ ...refusal, suppressed });
  };
  const accept = o.tls
    ? createTlsAcceptor(o.tls, timeoutMs, (socket, nodeId) => receiveFrame(socket, nodeId), refused)
    : (conn: TcpSocket) => receiveFrame(conn, undefined);
  const open = new Set<TcpSocket>();
  const tcp = createServer((conn) => {
    // Tracked from the start: a connection still in its TLS handshake must not hold up close().
    open.add(conn);
    conn.on('close', () => open.delete(conn));
    accept(conn);
  });

  /** Reads one frame; `peerId` is the TLS-verified node id of the sender (TLS mode only). */
  function receiveFrame(conn: TcpSocket, peerId: string | undefined): void {
    open.add(conn);
    conn.on('close', () => open.delete(conn));
    conn.setTimeout(timeoutMs, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    const chunks: Buffer[] = [];
    let received = 0;
    let length = -1;
    let delivered = false;
    conn.on('data', (chunk: Buffer) => {
      if (delivered) return; // one frame per connection: anything after it is ignored
      chunks.push(chunk);
      received += chunk.length;
      if (length < 0 && received >= FRAME_HEADER) {
        length = Buffer.concat(chunks).readUInt32BE(0);
        if (length > maxReliable) return conn.destroy();
      }
      if (length >= 0 && received >= FRAME_HEADER + length) {
        const frame = Buffer.concat(chunks).subarray(FRAME_HEADER, FRAME_HEADER + length);
        delivered = true;
        if (peerId === undefined) conn.end();
        else conn.end(Buffer.of(ACK));
        handler?.(new Uint8Array(frame), {
          from: `${conn.remoteAddress}:${conn.remotePort}`,
          reliable: true,
          ...(peerId !== undefined && { peerId }),
        });
      }
    });
  }

  udp.on('message', (msg, rinfo) => {
    handler?.(new Uint8Array(msg), { from: `${rinfo.address}:${rinfo.port}`, reliable: false });
  });
  // A datagram to an unreachable port surfaces as an error on some platforms: it is loss, not a fault.
  udp.on('error', () => {});

  const port = await bindBoth(udp, tcp, o.host, o.port);
  const address = o.advertise ?? `${o.host}:${port}`;

  return {
    address,
    maxPacketBytes: o.maxPacketBytes ?? 1400,
    send(to, packet) {
      const target = splitAddress(to);
      if (!target) return;
      udp.send(packet, target.port, target.host, () => {});
    },
    sendReliable(to, data, done, toId) {
      let finished = false;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        done?.(err);
      };
      const target = splitAddress(to);
      if (!target) return finish(new MeshError('invalid_request', `bad member address "${to}"`));
      if (data.byteLength > maxReliable)
        return finish(new MeshError('invalid_request', `reliable message of ${data.byteLength} bytes`));
      const header = Buffer.alloc(FRAME_HEADER);
      header.writeUInt32BE(data.byteLength, 0);
      const write = (socket: TcpSocket) => socket.end(Buffer.concat([header, data]));
      const tls = o.tls;
      const conn = tls
        ? dialTls(tls, { ...target, address: to }, toId, write, refused)
        : createConnection({ host: target.host, port: target.port }, () => write(conn));
      conn.setTimeout(timeoutMs, () => conn.destroy(new MeshError('unavailable', `no answer from ${to}`)));
      conn.on('error', (err) => finish(MeshError.from(err, 'unavailable')));
      let acked = false;
      conn.on('data', (chunk: Buffer) => (acked ||= chunk[0] === ACK));
      // Plain TCP: the receiver closes after reading the frame, only then did it arrive whole. TLS:
      // a refused client sees a plain close too, so only the receiver's ACK counts (net-tls.ts).
      conn.on('close', (hadError) => {
        if (hadError) finish(new MeshError('unavailable', `send to ${to} failed`));
        else if (tls && !acked)
          finish(
            new MeshError('unavailable', `${to} closed without acknowledging (refused our certificate?)`),
          );
        else finish();
      });
    },
    stats: () => ({ ...stats }),
    onReceive(h) {
      handler = h;
    },
    async close() {
      handler = undefined;
      for (const c of open) c.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

/** "host:port" or "[v6]:port" → parts, or undefined when malformed. */
function splitAddress(address: string): { host: string; port: number } | undefined {
  const i = address.lastIndexOf(':');
  if (i <= 0) return undefined;
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(i + 1));
  return Number.isInteger(port) && port > 0 && port < 65536 ? { host, port } : undefined;
}

/** Binds TCP first (port 0 picks one), then UDP on the same number; retries when UDP's is taken. */
async function bindBoth(udp: Socket, tcp: Server, host: string, port: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcpPort = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, host, () => {
        tcp.off('error', reject);
        resolve((tcp.address() as { port: number }).port);
      });
    });
    const bound = await new Promise<boolean>((resolve) => {
      const fail = () => resolve(false);
      udp.once('error', fail);
      udp.bind(tcpPort, host, () => {
        udp.off('error', fail);
        resolve(true);
      });
    });
    if (bound) return tcpPort;
    await new Promise<void>((r) => tcp.close(() => r()));
    if (port !== 0) break;
  }
  throw new MeshError('invalid_config', `membership.bind ${host}:${port}: UDP and TCP port not both free`);
}
