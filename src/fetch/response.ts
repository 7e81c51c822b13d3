// A fetch handler's Response, written back as a sluice response. The lightweight FastResponse
// goes out from what it was constructed with (a string or bytes body: one write, no stream); a
// platform Response has its body source peeked at when it is still untouched, else its stream is
// piped with backpressure, a chunk written as soon as it arrives (server-sent events work).
import type { HeaderValue, ResponseBody, ResponseHeaders, SluiceRequest, SluiceResponse } from '../http/types.js';
import { FastResponse, NativeResponse, impliedContentType } from './globals.js';

const TEXT_HEADERS: ResponseHeaders = Object.freeze({ 'content-type': 'text/plain;charset=UTF-8' });
const NO_HEADERS: ResponseHeaders = Object.freeze({});

/** A body for HEAD when the length is unknown: sluice then sends no Content-Length (never iterated). */
const NO_LENGTH: AsyncIterable<Uint8Array> = Object.freeze({
  [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true as const, value: undefined }) }),
});

/** A web ReadableStream as a sluice body: sluice iterates it, and cancels it if it cannot be sent. */
export class WebBody implements AsyncIterable<Uint8Array> {
  constructor(readonly stream: ReadableStream<Uint8Array>) {}
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return (this.stream as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  }
  destroy(): void {
    if (!this.stream.locked) this.stream.cancel().catch(() => {});
  }
}

/** The Response's headers as sluice fields: names as given, Set-Cookie lines kept apart. */
function fields(init: HeadersInit | undefined, impliedType: string | null): ResponseHeaders {
  if (init === undefined || init === null) return impliedType === null ? NO_HEADERS : impliedType === TEXT_HEADERS['content-type'] ? TEXT_HEADERS : { 'content-type': impliedType };
  let out: Record<string, HeaderValue>;
  let hasType = false;
  if (init instanceof Headers) {
    out = {};
    for (const [name, value] of init) {
      if (name === 'set-cookie') continue;
      out[name] = value;
    }
    const cookies = init.getSetCookie();
    if (cookies.length > 0) out['set-cookie'] = cookies;
    hasType = 'content-type' in out;
  } else if (Array.isArray(init)) {
    out = {};
    for (const pair of init as [string, string][]) {
      const name = String(pair[0]).toLowerCase();
      const prev = out[name];
      if (prev === undefined) out[name] = pair[1];
      else if (name === 'set-cookie') out[name] = Array.isArray(prev) ? [...(prev as string[]), pair[1]] : [prev as string, pair[1]];
      else out[name] = `${prev as string}, ${pair[1]}`;
    }
    hasType = 'content-type' in out;
  } else {
    // A plain record (what Hono's c.json()/c.text() pass): sent as it is, no copy.
    out = init as Record<string, string>;
    if (impliedType === null) return out;
    for (const name in out) {
      if (name.length === 12 && name.toLowerCase() === 'content-type') { hasType = true; break; }
    }
    if (!hasType) return { ...out, 'content-type': impliedType };
    return out;
  }
  if (impliedType !== null && !hasType) out['content-type'] = impliedType;
  return out;
}

function asBytes(body: ArrayBuffer | ArrayBufferView): Buffer {
  return body instanceof ArrayBuffer ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** The sluice response for what a fetch handler returned. Throws a TypeError when it is not a Response. */
export function toSluiceResponse(res: unknown, req: SluiceRequest): SluiceResponse {
  if (FastResponse.is(res)) return res._native === null ? fromFast(res, req) : fromNative(res._native, req);
  if (res instanceof NativeResponse) return fromNative(res, req);
  throw new TypeError(`the fetch handler returned ${describe(res)} for ${req.method} ${req.target}, not a Response`);
}

function fromFast(res: FastResponse, req: SluiceRequest): SluiceResponse {
  const status = res._status;
  const reason = res._statusText === '' ? undefined : res._statusText;
  let body = res._body;
  const init = res._headers ?? res._init;
  if (typeof body === 'string') return { status, reason, headers: fields(init, 'text/plain;charset=UTF-8'), body };
  if (body === null) {
    const headers = fields(init, null);
    return req.method === 'HEAD' ? headAnswer(status, reason, headers, res._from) : { status, reason, headers };
  }
  if (body instanceof Uint8Array) return { status, reason, headers: fields(init, null), body };
  const type = impliedContentType(body);
  if (type === undefined) return fromNative(res._materialize(), req); // FormData & co: the platform encodes them
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) body = asBytes(body);
  else if (body instanceof URLSearchParams) body = body.toString();
  else if (body instanceof Blob) {
    const headers = { ...fields(init, type), 'content-length': body.size };
    return { status, reason, headers, body: new WebBody(body.stream()) };
  } else if (body instanceof ReadableStream) {
    return { status, reason, headers: fields(init, null), body: new WebBody(body) };
  }
  return { status, reason, headers: fields(init, type), body: body as string | Uint8Array };
}

/** HEAD: no body; the length a GET would have had when the response it was copied from tells it. */
function headAnswer(status: number, reason: string | undefined, headers: ResponseHeaders, from: FastResponse | null): SluiceResponse {
  for (const name in headers) if (name.length === 14 && name.toLowerCase() === 'content-length') return { status, reason, headers };
  const b = from?._native === null ? from._body : undefined;
  const length = typeof b === 'string' ? Buffer.byteLength(b) : b instanceof Uint8Array ? b.byteLength : -1;
  if (length < 0) return { status, reason, headers, body: NO_LENGTH };
  return { status, reason, headers: { ...headers, 'content-length': length } };
}

// The platform Response keeps what it was built from in an internal state object; where it can be
// found (feature-detected once), an untouched string or byte source is sent as it is.
const kState = ((): symbol | undefined => {
  const probe = new NativeResponse('probe');
  for (const s of Object.getOwnPropertySymbols(probe)) {
    const v = (probe as unknown as Record<symbol, { body?: { source?: unknown; stream?: unknown } }>)[s];
    if (v !== null && typeof v === 'object' && v.body?.source === 'probe' && v.body.stream instanceof ReadableStream) return s;
  }
  return undefined;
})();

/** Whether this Node's Response exposes its body source (Node 20's undici does; Node 24's keeps it in private fields). */
export const PLATFORM_PEEK = kState !== undefined;

function peekSource(res: Response): string | Uint8Array | undefined {
  if (kState === undefined || res.bodyUsed) return undefined;
  const body = (res as unknown as Record<symbol, { body?: { source?: unknown; stream?: ReadableStream } | null }>)[kState]?.body;
  if (body === null || body === undefined || body.stream === undefined || body.stream.locked) return undefined;
  const src = body.source;
  return typeof src === 'string' || src instanceof Uint8Array ? src : undefined;
}

function fromNative(res: Response, req: SluiceRequest): SluiceResponse {
  const status = res.status;
  if (status < 200) throw new TypeError(`the fetch handler returned a Response with status ${status} (a network error?) for ${req.method} ${req.target}`);
  const reason = res.statusText === '' ? undefined : res.statusText;
  const headers = fields(res.headers, null);
  if (res.body === null) return req.method === 'HEAD' ? headAnswer(status, reason, headers, null) : { status, reason, headers };
  const src = peekSource(res);
  if (src !== undefined) return { status, reason, headers, body: src };
  if (req.method === 'HEAD') {
    res.body.cancel().catch(() => {});
    return headAnswer(status, reason, headers, null);
  }
  const body: ResponseBody = new WebBody(res.body);
  return { status, reason, headers, body };
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  const name = (x as { constructor?: { name?: string } }).constructor?.name;
  return name ? `an object (${name})` : 'an object';
}
