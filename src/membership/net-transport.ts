/**
 * The membership transport on a real network: one UDP socket for datagrams and a TCP listener on
 * the same port for the reliable channel, as memberlist does. A reliable message is one TCP
 * connection carrying one frame (u32 big-endian length, then the bytes); the receiver closes it
 * after the frame. Frames over `maxReliableBytes` and connections idle past the timeout are cut,
 * so a stray or hostile peer can hold neither memory nor sockets.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { MeshError } from '../core/errors.ts';
import type { ReceiveHandler, Transport } from './transport.ts';

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
}

export interface NetTransport extends Transport {
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
  const tcp = createServer((conn) => receiveFrame(conn));
  const open = new Set<TcpSocket>();

  function receiveFrame(conn: TcpSocket): void {
    open.add(conn);
    conn.on('close', () => open.delete(conn));
    conn.setTimeout(timeoutMs, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    const chunks: Buffer[] = [];
    let received = 0;
    let length = -1;
    conn.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (length < 0 && received >= FRAME_HEADER) {
        length = Buffer.concat(chunks).readUInt32BE(0);
        if (length > maxReliable) return conn.destroy();
      }
      if (length >= 0 && received >= FRAME_HEADER + length) {
        const frame = Buffer.concat(chunks).subarray(FRAME_HEADER, FRAME_HEADER + length);
        conn.end();
        handler?.(new Uint8Array(frame), {
          from: `${conn.remoteAddress}:${conn.remotePort}`,
          reliable: true,
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
    sendReliable(to, data, done) {
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
      const conn = createConnection({ host: target.host, port: target.port });
      conn.setTimeout(timeoutMs, () => conn.destroy(new MeshError('unavailable', `no answer from ${to}`)));
      conn.on('error', (err) => finish(MeshError.from(err, 'unavailable')));
      conn.on('connect', () => {
        const header = Buffer.alloc(FRAME_HEADER);
        header.writeUInt32BE(data.byteLength, 0);
        conn.end(Buffer.concat([header, data]));
      });
      // The receiver closes after reading the frame: only then did it arrive whole.
      conn.on('close', (hadError) =>
        finish(hadError ? new MeshError('unavailable', `send to ${to} failed`) : undefined),
      );
      conn.resume();
    },
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
