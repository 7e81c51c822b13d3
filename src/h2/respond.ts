// A SluiceResponse written to an HTTP/2 stream: the head as a HEADERS frame (connection-specific
// fields dropped, as HTTP/2 forbids them), the body as DATA with backpressure. node:http2 adds
// the Date field itself.
import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Readable, pipeline } from 'node:stream';
import { destroyBody } from '../http/connection.js';
import type { SluiceResponse } from '../http/types.js';

/** Fields that only mean something on an HTTP/1.1 connection (RFC 9113 §8.2.2). */
const CONNECTION_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

export interface Written {
  status: number;
  bodyBytes: number;
  aborted: boolean;
}

interface Fields { fields: OutgoingHttpHeaders; contentLength: number }

/** Frozen header objects (an app's prepared responses) are converted and checked once, not per response. */
const prepared = new WeakMap<object, Fields>();

/** Builds the HEADERS of a response. Throws on an invalid status or field (the caller answers 500). */
export function responseHead(res: SluiceResponse): { head: OutgoingHttpHeaders; status: number; contentLength: number } {
  const status = res.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new Error(`Invalid status ${status} for HTTP/2`);
  const headers = res.headers;
  let f = headers === undefined ? undefined : prepared.get(headers);
  if (f === undefined) {
    f = convert(headers);
    if (headers !== undefined && Object.isFrozen(headers)) prepared.set(headers, f);
  }
  // A fresh object per response: node:http2 keeps the one it is given as the stream's sentHeaders.
  return { head: Object.assign({ ':status': status }, f.fields), status, contentLength: f.contentLength };
}

function convert(headers: SluiceResponse['headers']): Fields {
  const fields: OutgoingHttpHeaders = {};
  let contentLength = -1;
  if (headers !== undefined) {
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || value === null) continue;
      const lower = name.toLowerCase();
      if (CONNECTION_FIELDS.has(lower)) continue;
      if (lower === 'content-length') {
        const n = Number(value);
        if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Invalid Content-Length: ${String(value)}`);
        contentLength = n;
        continue;
      }
      if (typeof value === 'number') fields[lower] = String(value);
      else if (typeof value === 'string') fields[lower] = checked(name, value);
      else fields[lower] = (value as readonly string[]).map((v) => checked(name, String(v)));
    }
  }
  return { fields, contentLength };
}

function checked(name: string, value: string): string {
  if (BAD_VALUE.test(value)) throw new Error(`Invalid value for header ${name}: contains a control character`);
  return value;
}

/**
 * Writes `res` on `stream` (whose request had method `method`) and resolves when the stream is
 * done with it: completely written, or closed before that (aborted).
 */
export function writeResponse(stream: ServerHttp2Stream, method: string, res: SluiceResponse): Promise<Written> {
  const { head, status, contentLength } = responseHead(res);
  const body = res.body;
  const noBody = status === 204 || status === 304;
  const isHead = method === 'HEAD';
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body instanceof Uint8Array ? body : null;

  if (bytes !== null || body === null || body === undefined || noBody) {
    const length = bytes?.byteLength ?? 0;
    if (!noBody) head['content-length'] = isHead && length === 0 && contentLength >= 0 ? contentLength : length;
    if (noBody || isHead) destroyBody(body);
    const send = !noBody && !isHead && length > 0;
    stream.respond(head, { endStream: !send });
    if (send) stream.end(bytes);
    return settled(stream, status, send ? length : 0);
  }

  // A stream or async iterable.
  if (contentLength >= 0) head['content-length'] = contentLength;
  if (isHead) {
    destroyBody(body);
    stream.respond(head, { endStream: true });
    return settled(stream, status, 0);
  }
  stream.respond(head);
  const source = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array | string>, { objectMode: false });
  let sent = 0;
  source.on('data', (c: Uint8Array | string) => { sent += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength; });
  return new Promise((resolve) => {
    // pipeline: backpressure both ways; an error on either side destroys the other (a body that
    // fails mid-way resets the stream: the client must not take a truncated body as complete).
    pipeline(source, stream, (err) => resolve({ status, bodyBytes: sent, aborted: err != null && !stream.writableFinished }));
  });
}

function settled(stream: ServerHttp2Stream, status: number, bodyBytes: number): Promise<Written> {
  return new Promise((resolve) => {
    if (stream.writableFinished) { resolve({ status, bodyBytes, aborted: false }); return; }
    const done = () => { stream.off('finish', done); stream.off('close', done); resolve({ status, bodyBytes, aborted: !stream.writableFinished }); };
    stream.on('finish', done);
    stream.on('close', done);
  });
}

