// A lightweight Response that fetch apps create instead of the platform's: the platform's builds
// a ReadableStream for every body (over ten microseconds even for a short string), this one keeps
// what it was given (status, headers init, body) and builds the real Response only when something
// needs it (its body as a stream, clone(), text()...). The adapter writes it straight out.
// installGlobals() makes it globalThis.Response, as @hono/node-server does, and wraps Request and
// fetch so that the lazy request can be passed to them.
import { NativeHeaders } from './headers.js';
import { FetchRequest, NativeRequest } from './request.js';

export const NativeResponse: typeof Response = globalThis.Response;
const nativeFetch: typeof fetch = globalThis.fetch;

const TEXT_PLAIN = 'text/plain;charset=UTF-8';
const FORM_URLENCODED = 'application/x-www-form-urlencoded;charset=UTF-8';

/**
 * The Content-Type a body implies when the headers give none (as the Fetch standard's extract
 * step sets it): null for none, undefined when only the real Response can tell (multipart boundary).
 */
export function impliedContentType(body: unknown): string | null | undefined {
  if (typeof body === 'string') return TEXT_PLAIN;
  if (body === null || body === undefined || body instanceof Uint8Array || body instanceof ArrayBuffer) return null;
  if (body instanceof URLSearchParams) return FORM_URLENCODED;
  if (body instanceof Blob) return body.type === '' ? null : body.type;
  if (body instanceof ReadableStream || ArrayBuffer.isView(body)) return null;
  return undefined;
}

function checkStatus(status: number): number {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive (got ${status})`);
  }
  return status;
}

export class FastResponse {
  /** @internal */ _status: number;
  /** @internal */ _statusText: string;
  /** @internal The headers init as given (object, array, Headers or undefined). */ _init: HeadersInit | undefined;
  /** @internal The body as given. */ _body: unknown;
  /** @internal Built when `headers` is read (then it is what goes out, with any changes made to it). */ _headers: Headers | null = null;
  /** @internal The real Response, once something needed it: from then on it is the source of truth. */ _native: Response | null = null;
  /** @internal The response this one copied its status and headers from (HEAD: `new Response(null, getResponse)`). */ _from: FastResponse | null = null;
  #brand = true;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    this._body = body ?? null;
    if (init === undefined || init === null) {
      this._status = 200;
      this._statusText = '';
      this._init = undefined;
    } else {
      this._status = init.status === undefined ? 200 : checkStatus(init.status);
      this._statusText = init.statusText ?? '';
      if (FastResponse.is(init)) {
        this._from = init;
        this._init = init.headers;
      } else {
        this._init = init.headers;
      }
    }
    if (this._body !== null && (this._status === 204 || this._status === 205 || this._status === 304)) {
      throw new TypeError(`Response constructor: a ${this._status} response cannot have a body`);
    }
    void this.#brand;
  }

  /** @internal */
  static is(x: unknown): x is FastResponse {
    return typeof x === 'object' && x !== null && #brand in x;
  }

  static [Symbol.hasInstance](x: unknown): boolean {
    if (this === FastResponse) return x instanceof NativeResponse;
    return Function.prototype[Symbol.hasInstance].call(this, x);
  }

  static json(data: unknown, init?: ResponseInit): FastResponse {
    const body = JSON.stringify(data);
    if (body === undefined) throw new TypeError('Response.json: the data is not JSON serializable');
    const headers = new NativeHeaders(init?.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new FastResponse(body, { status: init?.status, statusText: init?.statusText, headers });
  }

  static redirect(url: string | URL, status = 302): FastResponse {
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError(`Invalid redirect status ${status}`);
    return new FastResponse(null, { status, headers: { location: new URL(url).href } });
  }

  static error(): Response {
    return NativeResponse.error();
  }

  get status(): number { return this._native?.status ?? this._status; }
  get statusText(): string { return this._native?.statusText ?? this._statusText; }
  get ok(): boolean { const s = this.status; return s >= 200 && s < 300; }
  get type(): ResponseType { return this._native?.type ?? 'default'; }
  get url(): string { return this._native?.url ?? ''; }
  get redirected(): boolean { return this._native?.redirected ?? false; }
  get bodyUsed(): boolean { return this._native?.bodyUsed ?? false; }
  get body(): ReadableStream<Uint8Array> | null { return this._materialize().body; }

  get headers(): Headers {
    if (this._native !== null) return this._native.headers;
    if (this._headers === null) {
      const type = impliedContentType(this._body);
      if (type === undefined) return this._materialize().headers;
      const h = new NativeHeaders(this._init);
      if (type !== null && !h.has('content-type')) h.set('content-type', type);
      this._headers = h;
    }
    return this._headers;
  }

  text(): Promise<string> { return this._materialize().text(); }
  json(): Promise<unknown> { return this._materialize().json(); }
  arrayBuffer(): Promise<ArrayBuffer> { return this._materialize().arrayBuffer(); }
  blob(): Promise<Blob> { return this._materialize().blob(); }
  formData(): Promise<FormData> { return this._materialize().formData(); }
  bytes(): Promise<Uint8Array> { return this._materialize().arrayBuffer().then((b) => new Uint8Array(b)); }
  clone(): Response { return this._materialize().clone(); }

  /** @internal */
  _materialize(): Response {
    if (this._native === null) {
      this._native = new NativeResponse(this._body as BodyInit | null, {
        status: this._status, statusText: this._statusText, headers: this._headers ?? this._init,
      });
    }
    return this._native;
  }
}
Object.setPrototypeOf(FastResponse, NativeResponse); // statics we do not define (none today) still work
Object.setPrototypeOf(FastResponse.prototype, NativeResponse.prototype);
Object.defineProperty(FastResponse.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value(this: FastResponse) {
    return { status: this.status, headers: this.headers, body: this._native === null ? this._body : this._native.body };
  },
});

/** globalThis.Request while the globals are installed: accepts the lazy request as input. */
class SluiceRequestClass extends NativeRequest {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(input instanceof FetchRequest ? input._materialize() : input, init);
  }

  static override [Symbol.hasInstance](x: unknown): boolean {
    if (this === SluiceRequestClass) return x instanceof NativeRequest;
    return Function.prototype[Symbol.hasInstance].call(this, x);
  }
}

function sluiceFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  return nativeFetch(input instanceof FetchRequest ? input._materialize() : input, init);
}

let installed = false;

/**
 * Makes globalThis.Response the lightweight FastResponse, and lets globalThis.Request and fetch
 * take the lazy request. Idempotent. `instanceof Response` / `instanceof Request` keep working for
 * native and lightweight objects alike.
 */
export function installGlobals(): void {
  if (installed) return;
  installed = true;
  globalThis.Response = FastResponse as unknown as typeof Response;
  globalThis.Request = SluiceRequestClass as typeof Request;
  globalThis.fetch = sluiceFetch;
}
