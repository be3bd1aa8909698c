/**
 * Test fixture: a small OTLP/HTTP trace receiver (what an OpenTelemetry collector listens on at
 * :4318) on 127.0.0.1, port 0. It accepts `POST /v1/traces` in either encoding — protobuf
 * (`application/x-protobuf`, read by a tiny protobuf reader written against the OTLP
 * `trace.proto`) or JSON (`application/json`) — and keeps every span, flattened with its resource.
 */
import { createServer } from 'node:http';
import { bind } from '../../src/core/listen.ts';
import { waitFor } from './local-mesh.ts';

/** One exported span, as the receiver decoded it. Ids are lower-case hex ('' when absent). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** Base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it. */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received, in order. */
  contentTypes: string[];
  /** Resolves once `check(spans)` holds (bounded). */
  waitFor(check: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: OtlpReceiver = {
    url: '',
    spans: [],
    contentTypes: [],
    waitFor: (check, timeoutMs = 10_000, what = 'spans') =>
      waitFor(() => check(receiver.spans), timeoutMs, what),
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      receiver.contentTypes.push(type);
      const body = Buffer.concat(chunks);
      try {
        const spans = type.startsWith('application/json') ? fromJson(body) : fromProtobuf(body);
        receiver.spans.push(...spans);
      } catch (err) {
        res.writeHead(400).end(String(err));
        return;
      }
      // An empty ExportTraceServiceResponse: full success in either encoding.
      res.writeHead(200, { 'content-type': type });
      res.end(type.startsWith('application/json') ? '{}' : '');
    });
  });
  receiver.url = (await bind(server, { host: '127.0.0.1', port: 0 })).url;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return receiver;
}

// ---- OTLP/JSON ----

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}
type JsonAttrs = Array<{ key: string; value: JsonAnyValue }> | undefined;
interface JsonSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: JsonAttrs;
  events?: Array<{ name: string; attributes?: JsonAttrs }>;
  status?: { code?: number; message?: string };
}

function jsonValue(v: JsonAnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

const jsonAttrs = (attrs: JsonAttrs): Record<string, unknown> =>
  Object.fromEntries((attrs ?? []).map((a) => [a.key, jsonValue(a.value)]));

function fromJson(body: Buffer): ReceivedSpan[] {
  const req = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: Array<{
      resource?: { attributes?: JsonAttrs };
      scopeSpans?: Array<{ spans?: JsonSpan[] }>;
    }>;
  };
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = jsonAttrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const status = s.status ?? {};
        out.push({
          traceId: s.traceId ?? '',
          spanId: s.spanId ?? '',
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind ?? 0,
          attributes: jsonAttrs(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            attributes: jsonAttrs(e.attributes),
          })),
          status: { code: status.code ?? 0, ...(status.message ? { message: status.message } : {}) },
          resource,
        });
      }
    }
  }
  return out;
}

// ---- OTLP/protobuf: a reader for just the messages of ExportTraceServiceRequest ----

interface Field {
  no: number;
  /** Varint and fixed values as bigint; length-delimited ones as bytes. */
  value: bigint | Buffer;
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, value: varint() });
    else if (wire === 1) {
      out.push({ no, value: buf.readBigUInt64LE(pos) });
      pos += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 5) {
      out.push({ no, value: BigInt(buf.readUInt32LE(pos)) });
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const bytes = (f: Field): Buffer => f.value as Buffer;
const str = (f: Field): string => bytes(f).toString('utf8');

function anyValue(buf: Buffer): unknown {
  for (const f of fields(buf)) {
    if (f.no === 1) return str(f);
    if (f.no === 2) return f.value === 1n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint));
    if (f.no === 4) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(f.value as bigint);
      return b.readDoubleLE(0);
    }
    if (f.no === 5) return fields(bytes(f)).map((v) => anyValue(bytes(v)));
  }
  return undefined;
}

function keyValue(buf: Buffer, into: Record<string, unknown>): void {
  let key = '';
  let value: unknown;
  for (const f of fields(buf)) {
    if (f.no === 1) key = str(f);
    else if (f.no === 2) value = anyValue(bytes(f));
  }
  into[key] = value;
}

function span(buf: Buffer, resource: Record<string, unknown>): ReceivedSpan {
  const s: ReceivedSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    attributes: {},
    events: [],
    status: { code: 0 },
    resource,
  };
  for (const f of fields(buf)) {
    if (f.no === 1) s.traceId = bytes(f).toString('hex');
    else if (f.no === 2) s.spanId = bytes(f).toString('hex');
    else if (f.no === 4) s.parentSpanId = bytes(f).toString('hex');
    else if (f.no === 5) s.name = str(f);
    else if (f.no === 6) s.kind = Number(f.value);
    else if (f.no === 9) keyValue(bytes(f), s.attributes);
    else if (f.no === 11) {
      const event = { name: '', attributes: {} as Record<string, unknown> };
      for (const e of fields(bytes(f))) {
        if (e.no === 2) event.name = str(e);
        else if (e.no === 3) keyValue(bytes(e), event.attributes);
      }
      s.events.push(event);
    } else if (f.no === 15) {
      for (const st of fields(bytes(f))) {
        if (st.no === 2) s.status.message = str(st);
        else if (st.no === 3) s.status.code = Number(st.value);
      }
    }
  }
  return s;
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of fields(body)) {
    if (rs.no !== 1) continue;
    const resource: Record<string, unknown> = {};
    const scopes: Buffer[] = [];
    for (const f of fields(bytes(rs))) {
      if (f.no === 1) for (const a of fields(bytes(f))) if (a.no === 1) keyValue(bytes(a), resource);
      if (f.no === 2) scopes.push(bytes(f));
    }
    for (const scope of scopes)
      for (const f of fields(scope)) if (f.no === 2) out.push(span(bytes(f), resource));
  }
  return out;
}
