// The request object handlers see, and its body: chunks from the parser reach the handler
// buffered (body()/text()) or as a stream with backpressure (stream()).
import { Readable } from 'node:stream';
import type { HttpError } from './errors.js';
import type { FieldList } from './fields.js';
import { Continue, Exchange } from './h1/state.js';
import { BODY_NONE, type RequestHead } from './parser.js';
import type { SluiceRequest, SluiceResponse } from './types.js';

/**
 * What a connection knows about its peer and transport, fixed for its life. The server fills it
 * in (a PROXY protocol preamble may replace the socket's own address); handleConnection derives
 * it from the stream when none is given.
 */
export interface ConnectionInfo {
  /** The client's address: the socket's peer, or what a PROXY protocol preamble carried. */
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** 'https' when the bytes arrived over TLS. */
  scheme: 'http' | 'https';
  /**
   * Set when the peer is a trusted proxy: reads the forwarding fields (Forwarded,
   * X-Forwarded-For/-Proto/-Host) of a request. Null: the fields are ordinary headers.
   */
  forwarded: ((req: IncomingRequest) => ForwardedView) | null;
}

/** What a trusted proxy said about the original request; a missing part keeps the connection's own. */
export interface ForwardedView {
  remoteAddress?: string;
  scheme?: 'http' | 'https';
  host?: string;
}

/** What the body needs from its connection: flow control and the 100-continue promise. */
export interface BodySource {
  /** The handler started reading: send 100 Continue if the client is waiting for it. */
  bodyWanted(req: IncomingRequest): void;
  /** Called when the consumer can take more (stream mode) or when the body is discarded. */
  bodyResumed(): void;
  readonly info: ConnectionInfo;
}

const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const EMPTY = Buffer.alloc(0);
const NO_VIEW: ForwardedView = Object.freeze({});

/** Unread body bytes buffered before the handler decides what to do with them; past this, reading pauses. */
export const BODY_HIGH_WATER = 64 * 1024;

const M_PENDING = 0; // nobody has asked for the body yet: buffer (bounded, see BODY_HIGH_WATER)
const M_BUFFER = 1;  // body()/text(): collect everything
const M_STREAM = 2;  // stream(): push into a Readable
const M_DISCARD = 3; // the response went out without reading the body: drop it

export class IncomingRequest implements SluiceRequest {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly minorVersion: 0 | 1;
  readonly headers: FieldList;
  params: Record<string, string> = EMPTY_PARAMS;
  readonly hasBody: boolean;

  // ---- the connection's bookkeeping for this exchange (not part of the public API) ----
  /** @internal */ readonly _head: RequestHead;
  /** @internal Where the exchange is (see h1/state.ts). */ _state: Exchange = Exchange.Handling;
  /** @internal The 100-continue promise (see h1/state.ts). */ _continue: Continue;
  /** @internal The response to write: the handler's, once settled. */ _response: SluiceResponse | null = null;
  /** @internal An error that replaces the handler's answer (the request turned out malformed or too slow). */ _override: HttpError | null = null;
  /** @internal The next exchange on the same connection, while queued (h1/queue.ts). */ _next: IncomingRequest | null = null;
  /** @internal performance.now() when the head was parsed (set only when an onResponse hook will read it): the start of the exchange, for logs and metrics. */ _startedAt = 0;

  private readonly source: BodySource;
  private mode = M_PENDING;
  private chunks: Buffer[] = [];
  private bytes = 0;
  private ended = false;
  private failure: Error | null = null;
  private waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private readable: Readable | null = null;
  private abort: AbortController | null = null;
  private view: ForwardedView | null = null;
  /** Stream mode: the Readable asked for more (read()) since push() last said stop. */
  private streamWants = true;

  constructor(head: RequestHead, source: BodySource) {
    this._head = head;
    this.method = head.method;
    this.target = head.target;
    this.path = head.path;
    this.query = head.query;
    this.minorVersion = head.minorVersion;
    this.headers = head.headers;
    this.hasBody = head.bodyKind !== BODY_NONE;
    this.ended = !this.hasBody;
    this._continue = head.expectContinue && this.hasBody ? Continue.Awaited : Continue.None;
    this.source = source;
  }

  get remoteAddress(): string | undefined {
    return this.forwardedView().remoteAddress ?? this.source.info.remoteAddress;
  }

  get scheme(): 'http' | 'https' {
    return this.forwardedView().scheme ?? this.source.info.scheme;
  }

  /** The authority the client asked for: a trusted proxy's forwarded host, else the Host field ("" when absent). */
  get host(): string {
    return this.forwardedView().host ?? this.headers.get('host') ?? '';
  }

  /** Aborts when the connection closes before this request's response is completely written. */
  get signal(): AbortSignal {
    return (this.abort ??= new AbortController()).signal;
  }

  private forwardedView(): ForwardedView {
    if (this.view === null) {
      const forwarded = this.source.info.forwarded;
      this.view = forwarded === null ? NO_VIEW : forwarded(this);
    }
    return this.view;
  }

  /** Trailer fields of a chunked body (after the body has been read). */
  get trailers(): FieldList | null {
    return this._head.trailers;
  }

  body(): Promise<Buffer> {
    if (this.mode === M_STREAM || this.mode === M_BUFFER) return Promise.reject(new Error('The request body was already read'));
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) {
      this.mode = M_BUFFER;
      return Promise.resolve(this.collect());
    }
    this.mode = M_BUFFER;
    this.source.bodyWanted(this);
    this.source.bodyResumed();
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async text(): Promise<string> {
    return (await this.body()).toString('utf8');
  }

  stream(): Readable {
    if (this.readable) return this.readable;
    if (this.mode === M_BUFFER) throw new Error('The request body was already read');
    this.mode = M_STREAM;
    const readable = new Readable({
      highWaterMark: BODY_HIGH_WATER,
      read: () => {
        this.streamWants = true;
        this.source.bodyResumed();
      },
    });
    this.readable = readable;
    for (const c of this.chunks) readable.push(c);
    this.chunks = [];
    this.bytes = 0;
    if (this.failure) readable.destroy(this.failure);
    else if (this.ended) readable.push(null);
    else this.source.bodyWanted(this);
    return readable;
  }

  // ---- fed by the connection ----

  /** @internal A body piece. Returns false when the connection should stop reading for now. */
  _push(chunk: Buffer): boolean {
    switch (this.mode) {
      case M_DISCARD: return true;
      case M_STREAM: return (this.streamWants = this.readable!.push(chunk));
      default:
        this.chunks.push(chunk);
        this.bytes += chunk.length;
        return this.mode === M_BUFFER || this.bytes < BODY_HIGH_WATER;
    }
  }

  /** @internal Whether the connection may read more body bytes now. */
  _wantsData(): boolean {
    switch (this.mode) {
      case M_PENDING: return this.bytes < BODY_HIGH_WATER;
      case M_STREAM: return this.streamWants;
      default: return true;
    }
  }

  /** @internal The body is complete. */
  _end(): void {
    this.ended = true;
    if (this.mode === M_BUFFER && this.waiter) {
      this.waiter.resolve(this.collect());
      this.waiter = null;
    } else if (this.mode === M_STREAM) {
      this.readable!.push(null);
    }
  }

  /** @internal The body cannot complete (malformed, too large, timed out, connection lost). */
  _fail(err: Error): void {
    if (this.ended) return;
    this.failure = err;
    this.chunks = [];
    if (this.waiter) {
      this.waiter.reject(err);
      this.waiter = null;
    } else if (this.readable) {
      this.readable.destroy(err);
    }
  }

  /** @internal The connection closed before the response was completely written. */
  _aborted(): void {
    this._fail(new Error('connection closed'));
    this.abort?.abort(new Error('The client closed the connection before the response was complete'));
  }

  /** @internal The response is out and nobody read the body: drop what comes. */
  _discard(): void {
    if (this.mode === M_BUFFER || this.mode === M_STREAM) return; // someone is still reading it
    this.mode = M_DISCARD;
    this.chunks = [];
    this.bytes = 0;
  }

  /** @internal */
  get _bodyComplete(): boolean {
    return this.ended;
  }

  /** @internal The handler is reading the body (body(), text() or stream()). */
  get _reading(): boolean {
    return this.mode === M_BUFFER || this.mode === M_STREAM;
  }

  private collect(): Buffer {
    const { chunks } = this;
    this.chunks = [];
    if (chunks.length === 0) return EMPTY;
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.bytes);
  }
}
