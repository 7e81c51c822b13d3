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

interface Fields {
  fields: OutgoingHttpHeaders;
  contentLength: number;
  /** From a frozen header object: the last HEADERS built from it are kept, frozen, and reused. */
  prepared: boolean;
  lastStatus: number;
  lastLength: number;
  lastHead: OutgoingHttpHeaders | null;
}

/** Frozen header objects (an app's prepared responses) are converted and checked once, not per response. */
const prepared = new WeakMap<object, Fields>();

/** respond() copies its options: shared ones save an object per response. */
const END_STREAM = Object.freeze({ endStream: true });
const MORE_DATA = Object.freeze({ endStream: false });

function fieldsOf(res: SluiceResponse): Fields {
  const headers = res.headers;
  let f = headers === undefined ? undefined : prepared.get(headers);
  if (f === undefined) {
    const frozen = headers !== undefined && Object.isFrozen(headers);
    f = convert(headers, frozen);
    if (frozen) prepared.set(headers!, f);
  }
  return f;
}

/**
 * The HEADERS for `status` and a content-length (-1: none). node:http2's respond() copies the
 * object it is given into a new one (adding Date) and never writes to it, so a prepared
 * response's HEADERS are built once and handed over again while status and length stay the same;
 * they are frozen so that a Node that did write to them would fail loudly (a 500), not send stale fields.
 */
function headFor(f: Fields, status: number, length: number): OutgoingHttpHeaders {
  if (f.lastHead !== null && f.lastStatus === status && f.lastLength === length) return f.lastHead;
  const head: OutgoingHttpHeaders = Object.assign({ ':status': status }, f.fields);
  if (length >= 0) head['content-length'] = length;
  if (f.prepared) {
    f.lastStatus = status;
    f.lastLength = length;
    f.lastHead = Object.freeze(head);
  }
  return head;
}

function checkStatus(res: SluiceResponse): number {
  const status = res.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new Error(`Invalid status ${status} for HTTP/2`);
  return status;
}

function convert(headers: SluiceResponse['headers'], frozen: boolean): Fields {
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
  return { fields, contentLength, prepared: frozen, lastStatus: 0, lastLength: -1, lastHead: null };
}

function checked(name: string, value: string): string {
  if (BAD_VALUE.test(value)) throw new Error(`Invalid value for header ${name}: contains a control character`);
  return value;
}

/**
 * Writes `res` on `stream` (whose request had method `method`); `done`, when given, is called
 * once the stream is done with it: completely written, or closed before that (aborted).
 */
export function writeResponse(stream: ServerHttp2Stream, method: string, res: SluiceResponse, done: ((w: Written) => void) | null): void {
  const status = checkStatus(res);
  const f = fieldsOf(res);
  const contentLength = f.contentLength;
  const body = res.body;
  const noBody = status === 204 || status === 304;
  const isHead = method === 'HEAD';
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body instanceof Uint8Array ? body : null;

  if (bytes !== null || body === null || body === undefined || noBody) {
    const length = bytes?.byteLength ?? 0;
    const head = headFor(f, status, noBody ? -1 : isHead && length === 0 && contentLength >= 0 ? contentLength : length);
    if (noBody || isHead) destroyBody(body);
    const send = !noBody && !isHead && length > 0;
    // With the body in hand, the HEADERS go without END_STREAM and the DATA right after.
    stream.respond(head, send ? MORE_DATA : END_STREAM);
    if (send) stream.end(bytes);
    if (done !== null) settled(stream, status, send ? length : 0, done);
    return;
  }

  // A stream or async iterable.
  const head = headFor(f, status, contentLength);
  if (isHead) {
    destroyBody(body);
    stream.respond(head, END_STREAM);
    if (done !== null) settled(stream, status, 0, done);
    return;
  }
  stream.respond(head, MORE_DATA);
  const source = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array | string>, { objectMode: false });
  let sent = 0;
  if (done !== null) source.on('data', (c: Uint8Array | string) => { sent += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength; });
  // pipeline: backpressure both ways; an error on either side destroys the other (a body that
  // fails mid-way resets the stream: the client must not take a truncated body as complete).
  pipeline(source, stream, (err) => { if (done !== null) done({ status, bodyBytes: sent, aborted: err != null && !stream.writableFinished }); });
}

function settled(stream: ServerHttp2Stream, status: number, bodyBytes: number, report: (w: Written) => void): void {
  if (stream.writableFinished) { report({ status, bodyBytes, aborted: false }); return; }
  const done = () => { stream.off('finish', done); stream.off('close', done); report({ status, bodyBytes, aborted: !stream.writableFinished }); };
  stream.on('finish', done);
  stream.on('close', done);
}
