// The web-standard Request a fetch handler gets, built lazily over a sluice request: method and
// url are plain strings, headers read the parser's field list, the body methods read sluice's
// body directly, and a real Request is constructed only for what has no shortcut (clone(),
// cache, integrity...), once. It passes `instanceof Request`: its prototype chain includes
// Request.prototype, and every native member it does not define forwards to that real Request.
import * as nodeStream from 'node:stream';
import { HttpError } from '../http/errors.js';
import type { SluiceRequest } from '../http/types.js';
import { NativeReadableStream, parseFormData, toArrayBuffer, toWebStream } from './body.js';
import { inheritNative, RequestHeaders } from './headers.js';

export const NativeRequest: typeof Request = globalThis.Request;

/** Whether a web stream has been read from (node:stream has it; its typings lag). */
const isDisturbed = (nodeStream as unknown as { isDisturbed: (s: ReadableStream) => boolean }).isDisturbed;

// What became of the body.
const B_UNREAD = 0;  // untouched
const B_STREAM = 1;  // `body` was handed out: read it through that stream
const B_USED = 2;    // text()/json()/... took it

const EMPTY = Buffer.alloc(0);

/** Methods the Fetch standard upper-cases (the others keep their spelling). */
function normalizeMethod(m: string): string {
  switch (m) {
    case 'GET': case 'POST': case 'HEAD': case 'PUT': case 'DELETE': case 'OPTIONS': case 'PATCH':
      return m;
  }
  const u = m.toUpperCase();
  return u === 'GET' || u === 'POST' || u === 'HEAD' || u === 'PUT' || u === 'DELETE' || u === 'OPTIONS' ? u : m;
}

// A target and host that the URL parser would leave exactly as they are: the URL is a concatenation.
// (No dot segments, backslashes, spaces or non-ASCII; the parser has already refused control bytes.)
const PLAIN_TARGET = /^\/[!#$%&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;
const PLAIN_HOST = /^[a-z0-9._-]+(?::\d{1,5})?$/;
const BAD_HOST = /[/?#@\\\s]/;
/** The last host found plain, and its "scheme://host": a server sees the same one or few again and again. */
let plainHost = '';
let plainScheme = '';
let plainPrefix = '';

/** The absolute URL of a request: scheme and authority from the connection (TLS, trusted proxies), then the target. */
export function requestUrl(req: SluiceRequest): string {
  const target = req.target;
  const host = req.host || 'localhost'; // HTTP/1.0 without Host
  if (target.charCodeAt(0) === 47 /* / */) {
    const scheme = req.scheme;
    if (host !== plainHost || scheme !== plainScheme) {
      if (!PLAIN_HOST.test(host)) {
        if (BAD_HOST.test(host)) throw new HttpError(400, 'Bad Request: invalid Host');
        return normalizeUrl(`${scheme}://${host}${target}`);
      }
      plainHost = host;
      plainScheme = scheme;
      plainPrefix = `${scheme}://${host}`;
    }
    const url = plainPrefix + target;
    // A dot segment needs "/." somewhere: most targets are spared the second test.
    if (PLAIN_TARGET.test(target) && (!target.includes('/.') || !DOT_SEGMENT.test(target))) return url;
    return normalizeUrl(url);
  }
  if (target === '*') return `${req.scheme}://${host}/`; // OPTIONS *: the server as a whole
  if (/^https?:\/\//i.test(target)) return normalizeUrl(target); // absolute-form: it names the authority
  if (req.method === 'CONNECT') return normalizeUrl(`${req.scheme}://${target}/`);
  throw new HttpError(400, 'Bad Request: invalid request-target');
}

function normalizeUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    throw new HttpError(400, 'Bad Request: invalid URL');
  }
}

function unusable(): Promise<never> {
  return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
}

export class FetchRequest {
  /** @internal The sluice request underneath. */ readonly _req: SluiceRequest;
  /** @internal */ readonly _url: string;
  /** @internal */ readonly _method: string;
  /** @internal */ _headers: RequestHeaders | null = null;
  /** @internal The real Request, once something needed it. */ _native: Request | null = null;
  /** @internal */ _stream: ReadableStream<Uint8Array> | null = null;
  /** @internal */ _bodyState = B_UNREAD;

  constructor(req: SluiceRequest, url: string = requestUrl(req)) {
    this._req = req;
    this._url = url;
    this._method = normalizeMethod(req.method);
  }

  get method(): string { return this._method; }
  get url(): string { return this._url; }
  get headers(): Headers {
    return (this._headers ??= new RequestHeaders(this._req.headers)) as unknown as Headers;
  }
  /** Aborts when the client goes away before the response is completely written. */
  get signal(): AbortSignal { return this._req.signal; }

  /** @internal GET and HEAD never have a body in the Fetch model (sluice drops one if sent). */
  get _hasBody(): boolean {
    return this._req.hasBody && this._method !== 'GET' && this._method !== 'HEAD';
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this._native !== null) return this._native.body;
    if (!this._hasBody) return null;
    if (this._stream === null) {
      if (this._bodyState === B_USED) {
        // Already consumed by text() & co: an empty stream that reads as used.
        this._stream = new NativeReadableStream<Uint8Array>({ start: (c) => c.close() });
      } else {
        this._stream = toWebStream(this._req.stream());
        this._bodyState = B_STREAM;
      }
    }
    return this._stream;
  }

  get bodyUsed(): boolean {
    if (this._native !== null) return this._native.bodyUsed;
    return this._bodyState === B_USED || (this._stream !== null && isDisturbed(this._stream));
  }

  /** @internal The whole body, once, bounded by the server's maxBodySize. */
  _buffer(): Promise<Buffer> {
    if (this._native !== null) return this._native.arrayBuffer().then((ab) => Buffer.from(ab));
    if (this._bodyState === B_USED) return unusable();
    if (this._bodyState === B_STREAM) {
      const s = this._stream!;
      if (s.locked || isDisturbed(s)) return unusable();
      this._bodyState = B_USED;
      return collect(s);
    }
    this._bodyState = B_USED;
    return this._hasBody ? this._req.body() : Promise.resolve(EMPTY);
  }

  text(): Promise<string> {
    if (this._bodyState === B_UNREAD && this._native === null) {
      this._bodyState = B_USED;
      return this._hasBody ? this._req.text() : Promise.resolve('');
    }
    return this._buffer().then((b) => b.toString('utf8'));
  }

  json(): Promise<unknown> {
    return this.text().then(JSON.parse);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this._buffer().then(toArrayBuffer);
  }

  bytes(): Promise<Uint8Array> {
    return this._buffer().then((b) => new Uint8Array(toArrayBuffer(b)));
  }

  blob(): Promise<Blob> {
    return this._buffer().then((b) => new Blob([b as Uint8Array<ArrayBuffer>], { type: this.headers.get('content-type') ?? '' }));
  }

  formData(): Promise<FormData> {
    return this._buffer().then((b) => parseFormData(b, this.headers.get('content-type')));
  }

  clone(): Request {
    return this._materialize().clone();
  }

  /** @internal The real Request, built once: same URL, method, headers, signal, and the body as a stream. */
  _materialize(): Request {
    if (this._native !== null) return this._native;
    const init: RequestInit & { duplex?: 'half' } = {
      method: this._method,
      headers: (this.headers as unknown as RequestHeaders)._materialize(),
      signal: this._req.signal,
    };
    const body = this._hasBody ? this.body : null;
    // A body already read or being read cannot be handed over; the copy then has none.
    if (body !== null && !body.locked && !isDisturbed(body) && this._bodyState !== B_USED) {
      init.body = body;
      init.duplex = 'half';
    }
    const native = new NativeRequest(this._url, init);
    this._native = native;
    return native;
  }
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
  return Buffer.concat(parts);
}

inheritNative(FetchRequest, NativeRequest, (self: FetchRequest) => self._materialize());
Object.defineProperty(FetchRequest.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value(this: FetchRequest) {
    return { method: this._method, url: this._url, headers: this.headers, lazy: this._native === null };
  },
});
