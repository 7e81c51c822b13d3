// An HTTP/2 stream seen as a SluiceRequest: the same fields and body API as an HTTP/1.1 request,
// so one handler serves both protocols. The body is read from the stream only when the handler
// asks for it; until then HTTP/2 flow control holds the client back (nothing is buffered here).
import { Readable } from 'node:stream';
import type { ServerHttp2Stream } from 'node:http2';
import { HttpError } from '../http/errors.js';
import { lowerQuery } from '../http/fields.js';
import type { ConnectionInfo, ForwardedView, IncomingRequest } from '../http/request.js';
import type { Headers, SluiceRequest } from '../http/types.js';

/**
 * Request fields in the order received, minus the pseudo-fields (`:method`, `:path`...). Read
 * straight from node:http2's flat list, which is kept as it is: nothing is copied per request.
 */
export class H2Headers implements Headers {
  private readonly raw: readonly string[];
  /** :authority stands in for Host in HTTP/2; handlers written for HTTP/1.1 look for Host. */
  private readonly authority: string | undefined;

  /** `raw`: [name, value, name, value...] as node:http2 received them (names in lower case). */
  constructor(raw: readonly string[], authority: string | undefined) {
    this.raw = raw;
    this.authority = authority;
  }

  get size(): number {
    const raw = this.raw;
    let n = 0;
    let hasHost = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (name.charCodeAt(0) === 58 /* : */) continue;
      if (name === 'host') hasHost = true;
      n++;
    }
    return hasHost || this.authority === undefined ? n : n + 1;
  }

  // Names arrive in lower case (HTTP/2 requires it); a lookup may use any case, as with HTTP/1.1.
  get(name: string): string | undefined {
    const q = lowerQuery(name);
    if (q.charCodeAt(0) === 58) return undefined; // pseudo-fields are not fields
    // HTTP/2 may split Cookie into one field per crumb; rejoin them as HTTP/1.1 would send it.
    if (q === 'cookie') { const all = this.getAll(q); return all.length === 0 ? undefined : all.join('; '); }
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) if (raw[i] === q) return raw[i + 1];
    return q === 'host' ? this.authority : undefined;
  }

  getAll(name: string): string[] {
    const q = lowerQuery(name);
    const out: string[] = [];
    if (q.charCodeAt(0) === 58) return out;
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) if (raw[i] === q) out.push(raw[i + 1]);
    if (out.length === 0 && q === 'host' && this.authority !== undefined) out.push(this.authority);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    const raw = this.raw;
    let hasHost = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (name.charCodeAt(0) === 58) continue;
      if (name === 'host') hasHost = true;
      yield [name, raw[i + 1]];
    }
    if (!hasHost && this.authority !== undefined) yield ['host', this.authority];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

const EMPTY = Buffer.alloc(0);
const NO_VIEW: ForwardedView = Object.freeze({});
const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Who reads the body: nobody yet, body()/text(), stream(), or nobody ever (the response went out). */
const enum BodyMode { Pending, Buffer, Stream, Discard }

export interface H2RequestInit {
  stream: ServerHttp2Stream;
  rawHeaders: readonly string[];
  /** The connection's client and transport; its `forwarded` is consulted per request, lazily. */
  info: ConnectionInfo;
  maxBodySize: number;
  /** Told when the body grows past maxBodySize. */
  owner: { tooLarge(): void };
  /** Read the clock for _startedAt (only logs and metrics use it). */
  clock: boolean;
}

export class H2Request implements SluiceRequest {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  /** HTTP/2 has no minor version; 1 says "HTTP/1.1 semantics" (keep-alive, chunked-free bodies). */
  readonly minorVersion = 1 as const;
  readonly headers: H2Headers;
  params: Record<string, string> = EMPTY_PARAMS;
  readonly hasBody: boolean;
  /** @internal The protocol as access logs write it. */
  readonly _protocol = 'HTTP/2.0';
  /** @internal performance.now() when the stream opened (set only when an onResponse hook will read it), as HTTP/1.1 requests have it. */
  _startedAt = 0;

  private readonly info: ConnectionInfo;
  private readonly authority: string;
  private view: ForwardedView | null = null;
  private readonly h2: ServerHttp2Stream;
  private readonly maxBodySize: number;
  private readonly owner: { tooLarge(): void };
  private mode = BodyMode.Pending;
  private received = 0;
  private ended: boolean;
  private failure: Error | null = null;
  private abort: AbortController | null = null;
  private readable: Readable | null = null;
  private chunks: Buffer[] = [];
  private waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;

  constructor(init: H2RequestInit) {
    const { stream } = init;
    const raw = init.rawHeaders;
    let method = '', target = '', authority: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      switch (raw[i]) {
        case ':method': method = raw[i + 1]; break;
        case ':path': target = raw[i + 1]; break;
        case ':authority': authority = raw[i + 1]; break;
      }
    }
    this.method = method;
    this.headers = new H2Headers(raw, authority);
    this.authority = authority ?? this.headers.get('host') ?? '';
    if (method === 'CONNECT') {
      this.target = authority ?? '';
      this.path = this.target;
      this.query = '';
    } else {
      this.target = target;
      const q = target.indexOf('?');
      this.path = q === -1 ? target : target.slice(0, q);
      this.query = q === -1 ? '' : target.slice(q + 1);
    }
    this.info = init.info;
    this.h2 = stream;
    this.maxBodySize = init.maxBodySize;
    this.owner = init.owner;
    if (init.clock) this._startedAt = performance.now();
    this.hasBody = !stream.endAfterHeaders && this.headers.get('content-length') !== '0';
    this.ended = !this.hasBody;
  }

  /** The client's address: a trusted proxy's forwarded one, else the connection's (PROXY protocol or socket). */
  get remoteAddress(): string | undefined {
    return this.forwardedView().remoteAddress ?? this.info.remoteAddress;
  }

  get scheme(): 'http' | 'https' {
    return this.forwardedView().scheme ?? this.info.scheme;
  }

  /** The authority the client asked for: a trusted proxy's forwarded host, else :authority (or Host). */
  get host(): string {
    return this.forwardedView().host ?? this.authority;
  }

  /** The forwarding fields read once, on first use, as HTTP/1.1 requests do. */
  private forwardedView(): ForwardedView {
    if (this.view === null) {
      const forwarded = this.info.forwarded;
      // The view reads only the request's fields, which an H2Request has in the same shape.
      this.view = forwarded === null ? NO_VIEW : forwarded(this as unknown as IncomingRequest);
    }
    return this.view;
  }

  /** Aborts when the stream closes before its response is completely written. */
  get signal(): AbortSignal {
    return (this.abort ??= new AbortController()).signal;
  }

  body(): Promise<Buffer> {
    if (this.mode === BodyMode.Buffer || this.mode === BodyMode.Stream) return Promise.reject(new Error('The request body was already read'));
    if (this.failure) return Promise.reject(this.failure);
    this.mode = BodyMode.Buffer;
    if (this.ended) return Promise.resolve(EMPTY);
    this.attach();
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async text(): Promise<string> {
    return (await this.body()).toString('utf8');
  }

  stream(): Readable {
    if (this.readable) return this.readable;
    if (this.mode === BodyMode.Buffer) throw new Error('The request body was already read');
    this.mode = BodyMode.Stream;
    // Backpressure: a full Readable pauses the HTTP/2 stream, whose unread data then stops
    // returning flow-control window to the client.
    const readable = new Readable({ highWaterMark: 64 * 1024, read: () => { this.h2.resume(); } });
    this.readable = readable;
    if (this.failure) readable.destroy(this.failure);
    else if (this.ended) readable.push(null);
    else this.attach();
    return readable;
  }

  private attach(): void {
    const s = this.h2;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('end', () => this.onEnd());
    if (this.mode === BodyMode.Buffer) s.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== null || this.mode === BodyMode.Discard) return;
    this.received += chunk.length;
    if (this.received > this.maxBodySize) {
      this.fail(new HttpError(413, 'Content Too Large'));
      this.owner.tooLarge();
      return;
    }
    if (this.mode === BodyMode.Stream) {
      if (!this.readable!.push(chunk)) this.h2.pause();
    } else {
      this.chunks.push(chunk);
    }
  }

  private onEnd(): void {
    if (this.failure !== null) return;
    this.ended = true;
    if (this.mode === BodyMode.Stream) this.readable!.push(null);
    else if (this.waiter) {
      const { chunks } = this;
      this.chunks = [];
      this.waiter.resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.received));
      this.waiter = null;
    }
  }

  /** @internal The body cannot complete (too large, timed out, stream gone). */
  _fail(err: Error): void {
    this.fail(err);
  }

  private fail(err: Error): void {
    if (this.ended || this.failure !== null) return;
    this.failure = err;
    this.chunks = [];
    if (this.waiter) { this.waiter.reject(err); this.waiter = null; }
    else if (this.readable) this.readable.destroy(err);
  }

  /** @internal Whether the whole body has arrived (or there is none). */
  get _bodyComplete(): boolean {
    return this.ended;
  }

  /** @internal The stream closed before the response was completely written. */
  _aborted(): void {
    this.fail(new Error('stream closed'));
    this.abort?.abort(new Error('The client closed the stream before the response was complete'));
  }

  /** @internal The response went out; a body nobody asked for is not going to be read. */
  _discard(): void {
    if (this.mode === BodyMode.Pending) this.mode = BodyMode.Discard;
  }
}
