// One HTTP/1.1 connection over any duplex byte stream (a TCP or TLS socket, or an in-memory fake
// in tests): the async book's `handle_connection`. It feeds received bytes to the parser, hands
// each request to the handler as soon as its head is parsed (so pipelined requests run
// concurrently), writes responses strictly in request order, batching everything that is ready
// into one write, and owns keep-alive, timeouts, flow control and graceful close.
import { Readable, type Duplex } from 'node:stream';
import { HttpError } from './errors.js';
import { FieldList } from './fields.js';
import {
  currentDateLine, encodeFields, errorResponse, statusForbidsBody, statusLine, type EncodedFields,
} from './encode.js';
import { BODY_NONE, DATA, END, HEAD, NEED_DATA, RequestParser, type ParserLimits } from './parser.js';
import { IncomingRequest, type BodySource, type ConnectionInfo } from './request.js';
import type { Handler, ResponseBody, SluiceResponse } from './types.js';

export interface ConnectionOptions extends Partial<ParserLimits> {
  /** Time allowed to receive a request's head, from its first byte (slowloris defence). 408 after. Default 10000. */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request, head and body. 408 after. Default 30000. */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed quietly after this (a new connection waits headersTimeoutMs for its first byte). Default 5000. */
  keepAliveTimeoutMs?: number;
  /** Requests parsed ahead of their responses (pipelining depth) before reading pauses. Default 64. */
  maxPipelined?: number;
  /** Reports handler errors (answered 500). Default: console.error. */
  onError?: (err: unknown, req: IncomingRequest | null) => void;
  /**
   * Called once per exchange, when its response has been handed to the stream in full, or when
   * the connection closed before that (`aborted`). For access logs and metrics: keep it cheap.
   * Protocol errors answered before any head was parsed are reported too, with an empty method.
   */
  onResponse?: (req: IncomingRequest, record: ResponseRecord) => void;
}

/** What became of one exchange, for onResponse. */
export interface ResponseRecord {
  /** The status sent (or that would have been sent: 0 when the handler had not answered yet). */
  status: number;
  /** Body bytes handed to the stream (excluding the head and chunked framing). */
  bodyBytes: number;
  /** The connection closed before the response was completely written. */
  aborted: boolean;
}

/**
 * Responses an app returns again and again as frozen objects (Object.freeze on the response and its
 * headers) get their status line and fields validated and encoded once, not per request.
 */
const preparedHeads = new WeakMap<SluiceResponse, PreparedHead>();

interface PreparedHead {
  /** Status line and the caller's fields, encoded. */
  prefix: string;
  fields: EncodedFields;
  /** The complete head of the common case (HTTP/1.1, kept alive, byte body), for `dateLine`. */
  bytes: Buffer;
  dateLine: string;
}

const EMPTY_BUFFER = Buffer.alloc(0);

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const CHUNKED_END = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
/** After our last response, unread request bytes are drained this long before the socket is destroyed (avoids RST eating the response). */
const LINGER_MS = 2000;

const T_NONE = 0;
const T_IDLE = 1;
const T_HEADERS = 2;
const T_REQUEST = 3;
const T_DRAIN = 4;
const T_LINGER = 5;
/** How long an idle connection stays open after drain() for a request already on its way. */
const DRAIN_GRACE_MS = 250;

/**
 * Serves HTTP/1.1 on `stream` with `handler` until the peer goes away or the connection is closed.
 * Never rejects: protocol errors are answered (4xx/5xx) and handler errors become 500.
 */
export function handleConnection(stream: Duplex, handler: Handler, options: ConnectionOptions = {}, info?: ConnectionInfo): Promise<void> {
  return new Connection(stream, handler, options, info).done;
}

/** The peer and transport of a stream that came with no ConnectionInfo: read off the socket. */
export function streamInfo(stream: Duplex): ConnectionInfo {
  const s = stream as { remoteAddress?: string; remotePort?: number; encrypted?: boolean };
  return { remoteAddress: s.remoteAddress, remotePort: s.remotePort, scheme: s.encrypted === true ? 'https' : 'http', forwarded: null };
}

/** Node's Buffer has these (undocumented, stable since v0.x) without the encoding dispatch of write(). */
type FastBuffer = Buffer & { utf8Write(s: string, off: number): number; latin1Write(s: string, off: number): number };

/** Batches up to this size are copied into one buffer; Buffer.allocUnsafe serves up to 4 KiB from its pool. */
const POOLED_COPY_MAX = Buffer.poolSize >>> 1;

/** Bytes waiting to be written, gathered so one write carries every response that is ready. */
class Output {
  private readonly parts: (string | Uint8Array)[] = [];
  private readonly utf8: boolean[] = [];
  private size = 0;

  get empty(): boolean {
    return this.parts.length === 0;
  }

  /** `s` must be Latin-1 (a head) unless `utf8Length` is given. */
  text(s: string, utf8Length = -1): void {
    this.parts.push(s);
    this.utf8.push(utf8Length !== -1);
    this.size += utf8Length !== -1 ? utf8Length : s.length;
  }

  bytes(b: Uint8Array): void {
    if (b.byteLength === 0) return;
    this.parts.push(b);
    this.utf8.push(false);
    this.size += b.byteLength;
  }

  /**
   * Writes everything in one system call. Small batches are copied into one buffer (from Node's
   * buffer pool, cheaper than a writev); past the pool's slice size the parts go out as they are,
   * corked into one writev, rather than paying for a fresh allocation and a copy of the body.
   * Returns stream.write's verdict (false: wait for 'drain').
   */
  flush(stream: Duplex): boolean {
    const { parts, utf8 } = this;
    let ok = true;
    if (parts.length === 1 && typeof parts[0] !== 'string') {
      ok = stream.write(parts[0]);
    } else if (this.size > POOLED_COPY_MAX) {
      stream.cork();
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        ok = typeof p === 'string' ? stream.write(p, utf8[i] ? 'utf8' : 'latin1') : stream.write(p);
      }
      stream.uncork();
    } else {
      const buf = Buffer.allocUnsafe(this.size) as FastBuffer;
      let off = 0;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (typeof p === 'string') off += utf8[i] ? buf.utf8Write(p, off) : buf.latin1Write(p, off);
        else { buf.set(p, off); off += p.byteLength; }
      }
      ok = stream.write(buf);
    }
    parts.length = 0;
    utf8.length = 0;
    this.size = 0;
    return ok;
  }
}

export class Connection implements BodySource {
  /** Resolves when the connection is closed and every exchange is settled. */
  readonly done: Promise<void>;

  private readonly stream: Duplex;
  private readonly handler: Handler;
  private readonly parser: RequestParser;
  private readonly headersTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly keepAliveTimeoutMs: number;
  private readonly maxPipelined: number;
  private readonly onError: (err: unknown, req: IncomingRequest | null) => void;
  private readonly onResponse: ((req: IncomingRequest, record: ResponseRecord) => void) | null;
  readonly info: ConnectionInfo;
  /** The request whose body is being streamed out (it has left the queue). */
  private streamingReq: IncomingRequest | null = null;

  /** Requests whose responses are not yet (fully) written, in request order. */
  private readonly queue: IncomingRequest[] = [];
  /** The request whose body is being received. */
  private receiving: IncomingRequest | null = null;
  private readonly out = new Output();

  private pumping = false;
  private repump = false;
  /** No more requests are parsed (error, Connection: close, or the peer half-closed). */
  private stopParsing = false;
  /** A streamed body is being written for queue[0]. */
  private streaming = false;
  /** stream.write asked us to wait for 'drain'. */
  private writeBlocked = false;
  private readPaused = false;
  private draining = false;
  /** Unread input may follow (an error, or a body the client was told to hold back): linger on close. */
  private mustLinger = false;
  private peerEnded = false;
  private ended = false;
  private closed = false;

  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private deadline = 0;
  private deadlineKind = T_NONE;
  /** When the first byte of the request being received arrived. */
  private messageStart = 0;
  private requestsSeen = 0;

  private resolveDone!: () => void;

  constructor(stream: Duplex, handler: Handler, options: ConnectionOptions = {}, info?: ConnectionInfo) {
    this.stream = stream;
    this.handler = handler;
    this.parser = new RequestParser(options);
    this.headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 5_000;
    this.maxPipelined = options.maxPipelined ?? 64;
    this.onError = options.onError ?? defaultOnError;
    this.onResponse = options.onResponse ?? null;
    this.info = info ?? streamInfo(stream);
    this.done = new Promise((r) => (this.resolveDone = r));

    // Shared listeners that find their connection on the stream: no closures per connection
    // (10,000 open connections are 10,000 of each).
    (stream as ConnectionStream)[kConnection] = this;
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('error', onStreamClose); // 'close' follows; errors on a socket are the peer's business
    stream.on('close', onStreamClose);
    stream.on('drain', onStreamDrain);
    if (stream.destroyed) { this.onClose(); return; }
    this.updateTimer(Date.now());
    if (stream.isPaused()) stream.resume(); // accepted with pauseOnConnect
  }

  /**
   * Graceful shutdown: finish what was received, then close. An idle connection closes after a
   * short grace: a request may be in flight towards us (sent on a kept-alive connection, or
   * waiting unread in a connection just taken from the accept queue); if it arrives in time it is
   * answered, with Connection: close.
   */
  drain(): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    this.updateTimer(Date.now()); // idle: the drain grace (see updateTimer)
  }

  /** Cuts the connection now. */
  destroy(): void {
    this.stream.destroy();
  }

  // ---- reading ------------------------------------------------------------------------------

  /** @internal */
  onData(chunk: Buffer): void {
    if (this.stopParsing) return; // after our last response: bytes are drained and dropped
    if (this.parser.idle) this.messageStart = 0;
    this.parser.feed(chunk);
    this.pump();
  }

  /** Pulls events out of the parser while the connection can take them, then writes what is ready. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    const parser = this.parser;
    const now = Date.now();
    try {
      do {
        this.repump = false;
        while (!this.stopParsing) {
          const receiving = this.receiving;
          if (receiving !== null ? !receiving._wantsData() : this.queue.length >= this.maxPipelined) break;
          if (this.messageStart === 0 && !parser.idle) this.messageStart = now;
          let ev;
          try {
            ev = parser.next();
          } catch (err) {
            this.protocolError(err as HttpError);
            break;
          }
          if (ev === NEED_DATA) break;
          if (ev === HEAD) {
            this.onHead();
          } else if (ev === DATA) {
            receiving!._push(parser.data);
          } else if (ev === END) {
            this.receiving = null;
            this.messageStart = 0;
            receiving!._end();
            if (!receiving!._head.keepAlive) this.stopParsing = true;
          }
        }
      } while (this.repump && !this.closed);
    } finally {
      this.pumping = false;
    }
    this.writeReady();
    this.updateReading();
    this.updateTimer(now);
  }

  private onHead(): void {
    const head = this.parser.head!;
    const req = new IncomingRequest(head, this);
    req._startedAt = performance.now();
    this.requestsSeen++;
    this.queue.push(req);
    if (head.bodyKind !== BODY_NONE) {
      this.receiving = req;
    } else {
      this.messageStart = 0;
      if (!head.keepAlive) this.stopParsing = true;
    }
    this.dispatch(req);
  }

  private dispatch(req: IncomingRequest): void {
    let result: SluiceResponse | Promise<SluiceResponse>;
    try {
      result = this.handler(req);
    } catch (err) {
      this.settle(req, this.failureResponse(err, req));
      return;
    }
    if (result !== null && typeof (result as Promise<SluiceResponse>).then === 'function') {
      (result as Promise<SluiceResponse>).then(
        (res) => this.settle(req, res),
        (err) => this.settle(req, this.failureResponse(err, req)),
      );
    } else {
      this.settle(req, result as SluiceResponse);
    }
  }

  private settle(req: IncomingRequest, res: SluiceResponse): void {
    if (res === null || typeof res !== 'object') {
      res = this.failureResponse(new TypeError(`handler returned ${res === null ? 'null' : typeof res}, not a response object`), req);
    }
    if (this.closed || req._dropped) {
      destroyBody(res.body); // nobody will write it: release its file handle or stream now
      return;
    }
    req._response = res;
    req._ready = true;
    if (req === this.queue[0] && !this.pumping) {
      this.writeReady();
      this.resumeParsing();
    }
  }

  /** After progress on the writing side: parse what is buffered if we can, else just re-gate reading. */
  private resumeParsing(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.repump = true; // asked from inside pump (a body consumer reading synchronously): loop again there
      return;
    }
    if (!this.stopParsing) this.pump(); // cheap when nothing is buffered; an END may be due
    else {
      this.updateReading();
      this.updateTimer(Date.now());
    }
  }

  private failureResponse(err: unknown, req: IncomingRequest): SluiceResponse {
    if (err instanceof HttpError) {
      return { status: err.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${err.message}\n` };
    }
    this.onError(err, req);
    return { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Internal Server Error\n' };
  }

  /** A malformed request or a timeout: answer it in order, then close. */
  private protocolError(err: Error): void {
    const httpErr = err instanceof HttpError ? err : new HttpError(400, 'Bad Request');
    this.stopParsing = true;
    this.mustLinger = true;
    const receiving = this.receiving;
    this.receiving = null;
    if (receiving !== null) {
      receiving._fail(httpErr);
      if (this.queue.includes(receiving)) {
        receiving._override = httpErr; // its own response is replaced by the error
        return;
      }
      // Its response is out already: the rest of the body is garbage; close.
      this.closeAfterWrites();
      return;
    }
    // An error before any head was parsed: a response of its own, after those already queued.
    const pseudo = new IncomingRequest(
      { method: 'GET', target: '', path: '', query: '', minorVersion: 1, headers: new FieldList(), keepAlive: false,
        expectContinue: false, bodyKind: BODY_NONE, contentLength: 0, trailers: null },
      this,
    );
    pseudo._override = httpErr;
    pseudo._ready = true;
    pseudo._startedAt = performance.now();
    this.queue.push(pseudo);
  }

  /** @internal */
  onPeerEnd(): void {
    this.peerEnded = true;
    if (this.ended) {
      this.closeAfterWrites();
      return;
    }
    // The peer sent all it will send: a partial request can never complete, a partial body is an error.
    if (this.receiving !== null) this.protocolError(new HttpError(400, 'Bad Request: incomplete request body'));
    this.stopParsing = true;
    this.writeReady(); // and closes once nothing is left to answer
  }

  /** Pauses or resumes the socket from the conditions that gate reading. */
  private updateReading(): void {
    if (this.closed) return;
    let want: boolean;
    if (this.stopParsing) want = true; // drain and drop: keeps the kernel buffer empty so close() sends FIN, not RST
    else if (this.writeBlocked) want = false;
    else if (this.receiving !== null) want = this.receiving._wantsData();
    else want = this.queue.length < this.maxPipelined;
    if (want === !this.readPaused) return;
    this.readPaused = !want;
    if (want) this.stream.resume();
    else this.stream.pause();
  }

  // BodySource

  bodyWanted(req: IncomingRequest): void {
    if (!req._head.expectContinue || req._continueSent) return;
    if (req === this.queue[0] && !this.streaming) {
      req._continueSent = true;
      this.out.bytes(CONTINUE); // behind any response already gathered but not yet flushed
      if (!this.pumping) this.flushOut();
    } else {
      req._continuePending = true; // written when its turn comes, so 1xx never overtakes an earlier response
    }
  }

  bodyResumed(): void {
    this.resumeParsing();
  }

  // ---- writing ------------------------------------------------------------------------------

  /** Writes every response that is ready at the head of the queue, in order. */
  private writeReady(): void {
    const queue = this.queue;
    while (queue.length > 0 && !this.streaming && !this.closed) {
      const req = queue[0];
      if (req._continuePending && !req._ready) {
        req._continuePending = false;
        req._continueSent = true;
        this.out.bytes(CONTINUE);
      }
      if (!req._ready) break;
      queue.shift();
      this.writeResponse(req);
    }
    this.flushOut();
    // (A draining connection that went idle closes after a grace: see updateTimer.)
    if (queue.length === 0 && !this.streaming && (this.ended || (this.peerEnded && this.receiving === null))) {
      this.closeAfterWrites();
    }
  }

  private writeResponse(req: IncomingRequest): void {
    const override = req._override;
    if (override !== null) {
      const status = override instanceof HttpError ? override.status : 400;
      this.out.text(errorResponse(status, override.message, req.method === 'HEAD'));
      this.report(req, status, req.method === 'HEAD' ? 0 : Buffer.byteLength(override.message) + 1, false);
      this.finish(req, false);
      return;
    }
    const res = req._response!;
    const status = res.status ?? 200;
    const head = req._head;
    const body: ResponseBody = res.body;
    let fields: EncodedFields;
    let prefix: string;
    let prepared = Object.isFrozen(res) ? preparedHeads.get(res) : undefined;
    try {
      if (prepared !== undefined) {
        ({ prefix, fields } = prepared);
      } else {
        if (!Number.isInteger(status) || status < 200 || status > 999) throw new Error(`Invalid status ${status}`);
        fields = encodeFields(res.headers);
        prefix = statusLine(status, res.reason) + fields.lines;
        if (Object.isFrozen(res) && (res.headers === undefined || Object.isFrozen(res.headers))) {
          prepared = { prefix, fields, bytes: EMPTY_BUFFER, dateLine: '' };
          preparedHeads.set(res, prepared);
        }
      }
    } catch (err) {
      this.onError(err, req);
      destroyBody(body);
      this.out.text(errorResponse(500, 'Internal Server Error', req.method === 'HEAD'));
      this.report(req, 500, req.method === 'HEAD' ? 0 : 22, false);
      this.finish(req, false);
      return;
    }
    let keepAlive = head.keepAlive && !fields.close && !this.stopAfter(req) &&
      // a client still waiting for 100 Continue will not send the body it announced: the framing is lost
      !(!req._bodyComplete && head.expectContinue && !req._continueSent);
    const noBody = statusForbidsBody(status);
    const sendBody = req.method !== 'HEAD' && !noBody;
    const dateLine = currentDateLine();

    // Fast path: a prepared response with a byte body on a kept-alive HTTP/1.1 connection. Its
    // whole head is cached as bytes and renewed when the Date line changes (once a second).
    if (prepared !== undefined && body instanceof Uint8Array && keepAlive && head.minorVersion === 1 && !fields.hasDate && !noBody) {
      if (prepared.dateLine !== dateLine) {
        prepared.bytes = Buffer.from(`${prefix}${dateLine}Content-Length: ${body.byteLength}\r\n\r\n`, 'latin1');
        prepared.dateLine = dateLine;
      }
      this.out.bytes(prepared.bytes);
      if (sendBody) this.out.bytes(body);
      if (this.onResponse !== null) this.report(req, status, sendBody ? body.byteLength : 0, false);
      this.finish(req, true);
      return;
    }

    let s = prefix;
    if (!fields.hasDate) s += dateLine;

    let bodyText: string | null = null;
    let bodyBytes: Uint8Array | null = null;
    let length = -1;
    let stream: AsyncIterable<Uint8Array | string> | null = null;
    if (body === undefined || body === null) {
      length = 0;
    } else if (typeof body === 'string') {
      bodyText = body;
      length = Buffer.byteLength(body);
    } else if (body instanceof Uint8Array) {
      bodyBytes = body;
      length = body.byteLength;
    } else {
      stream = body as AsyncIterable<Uint8Array | string>;
    }

    let chunked = false;
    if (noBody) {
      if (status === 304 && fields.contentLength >= 0) s += `Content-Length: ${fields.contentLength}\r\n`;
    } else if (stream === null) {
      // A HEAD answer without a body may still state the length a GET would have.
      s += `Content-Length: ${req.method === 'HEAD' && length === 0 && fields.contentLength >= 0 ? fields.contentLength : length}\r\n`;
    } else if (fields.contentLength >= 0) {
      length = fields.contentLength;
      s += `Content-Length: ${length}\r\n`;
    } else if (req.method === 'HEAD') {
      // no length known and none sent
    } else if (head.minorVersion === 1) {
      chunked = true;
      s += 'Transfer-Encoding: chunked\r\n';
    } else {
      keepAlive = false; // HTTP/1.0: the body ends when the connection does
    }
    if (!keepAlive) s += 'Connection: close\r\n';
    else if (head.minorVersion === 0) s += 'Connection: keep-alive\r\n';
    this.out.text(s + '\r\n');

    if (!sendBody) {
      destroyBody(body);
      if (this.onResponse !== null) this.report(req, status, 0, false);
      this.finish(req, keepAlive);
      return;
    }
    if (bodyText !== null) this.out.text(bodyText, length);
    else if (bodyBytes !== null) this.out.bytes(bodyBytes);
    else if (stream !== null) {
      this.streaming = true;
      this.streamingReq = req;
      this.writeStream(req, stream, chunked, length, keepAlive, status);
      return;
    }
    if (this.onResponse !== null) this.report(req, status, length, false);
    this.finish(req, keepAlive);
  }

  private report(req: IncomingRequest, status: number, bodyBytes: number, aborted: boolean): void {
    const onResponse = this.onResponse;
    if (onResponse === null) return;
    try {
      onResponse(req, { status, bodyBytes, aborted });
    } catch (err) {
      this.onError(err, req);
    }
  }

  /** True when the connection should close after `req`'s response (shutdown in progress and nothing else pending). */
  private stopAfter(req: IncomingRequest): boolean {
    return this.draining && this.queue.length === 0 && this.receiving === null && this.parser.idle && req._bodyComplete;
  }

  /** A response is fully handed to the stream. */
  private finish(req: IncomingRequest, keepAlive: boolean): void {
    if (!req._bodyComplete) {
      if (req._head.expectContinue && !req._continueSent) {
        // The client is waiting for 100 before it sends the body; it won't come now.
        keepAlive = false;
        this.mustLinger = true; // (it may send the body anyway after its own timeout)
        req._fail(new Error('response sent before the body was read'));
        this.receiving = null;
      } else {
        req._discard(); // read the rest of the body and drop it, then go on with the next request
        if (keepAlive && !this.pumping) queueMicrotask(() => this.resumeParsing());
      }
    }
    if (!keepAlive) {
      this.ended = true;
      this.stopParsing = true;
      for (const later of this.queue.splice(0)) this.drop(later);
    }
  }

  /**
   * Streams a body with backpressure, the way pipe() does: the source is paused whenever the
   * socket's buffer is full and resumed on 'drain'. Event-driven rather than `for await`, which
   * costs a promise round per chunk. Any other async iterable is adapted with Readable.from.
   */
  private writeStream(req: IncomingRequest, body: AsyncIterable<Uint8Array | string>, chunked: boolean, length: number, keepAlive: boolean, status: number): void {
    const stream = this.stream;
    this.flushOut();
    const source: Readable = isReadable(body) ? body : Readable.from(body, { objectMode: false });
    let sent = 0;
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', settle);
      stream.off('drain', onDrain);
      stream.off('close', onGone);
      source.destroy();
      this.streaming = false;
      this.streamingReq = null;
      if (err === null && length >= 0 && sent !== length) err = new Error(`response body shorter than its Content-Length (${sent} of ${length})`);
      if (err !== null || this.closed) {
        if (err !== null && !this.closed) this.onError(err, req);
        req._aborted();
        this.report(req, status, sent, true);
        stream.destroy(); // the head promised a body we could not deliver: the framing is broken
        return;
      }
      this.report(req, status, sent, false);
      if (chunked) this.out.bytes(CHUNKED_END);
      else if (length < 0) keepAlive = false; // close-delimited (HTTP/1.0)
      this.finish(req, keepAlive);
      this.writeReady();
      this.resumeParsing();
    };
    const onData = (piece: Uint8Array | string) => {
      const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
      const n = chunk.byteLength;
      if (n === 0) return;
      sent += n;
      if (length >= 0 && sent > length) return settle(new Error(`response body longer than its Content-Length (${length})`));
      let ok: boolean;
      if (chunked) {
        stream.cork();
        stream.write(`${n.toString(16)}\r\n`, 'latin1');
        stream.write(chunk);
        ok = stream.write(CRLF);
        stream.uncork();
      } else {
        ok = stream.write(chunk);
      }
      if (!ok) source.pause();
    };
    const onDrain = () => source.resume();
    const onEnd = () => settle(null);
    const onGone = () => settle(null); // (closed: settle sees it and only releases the source)
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', settle);
    stream.on('drain', onDrain);
    stream.once('close', onGone);
  }

  private flushOut(): void {
    if (this.out.empty || this.closed) return;
    if (!this.out.flush(this.stream)) this.writeBlocked = true;
  }

  /** @internal */
  onDrain(): void {
    if (!this.writeBlocked) return;
    this.writeBlocked = false;
    this.resumeParsing();
  }

  // ---- closing ------------------------------------------------------------------------------

  /** Ends our side once everything queued is written; lingers to drain unread input, then destroys. */
  private closeAfterWrites(): void {
    if (this.closed) return;
    this.ended = true;
    this.stopParsing = true;
    const stream = this.stream;
    if (!stream.writableEnded) stream.end();
    // Release the socket as soon as our last bytes are out when nothing unread can be on its way:
    // the peer is done, or it sent complete requests only and nothing went wrong (nginx's
    // lingering-close heuristic). Otherwise keep reading and dropping for a while: closing with
    // unread bytes makes the kernel send RST, which can destroy the response we just sent.
    if (this.peerEnded || (!this.mustLinger && this.parser.idle && this.receiving === null)) {
      if (stream.writableFinished) stream.destroy();
      else stream.once('finish', () => stream.destroy());
      return;
    }
    if (this.deadlineKind === T_LINGER) return;
    this.updateReading();
    this.setDeadline(T_LINGER, Date.now() + LINGER_MS);
  }

  /** @internal */
  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopParsing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.receiving?._fail(new Error('connection closed'));
    for (const req of this.queue.splice(0)) this.drop(req);
    if (!this.stream.destroyed) this.stream.destroy();
    this.resolveDone();
  }

  /** A request whose response will never be written (the connection is closing): fail its body, release its response's. */
  private drop(req: IncomingRequest): void {
    req._dropped = true;
    req._aborted();
    if (req._response !== null) destroyBody(req._response.body);
    this.report(req, req._response?.status ?? 0, 0, true);
  }

  // ---- timeouts: one lazily re-armed timer per connection -----------------------------------

  private updateTimer(now: number): void {
    if (this.closed || this.ended) return;
    const parser = this.parser;
    if (!parser.idle && !this.readPaused) {
      const start = this.messageStart || now;
      if (parser.inBody) this.setDeadline(T_REQUEST, start + this.requestTimeoutMs);
      else this.setDeadline(T_HEADERS, start + this.headersTimeoutMs);
    } else if (parser.idle && this.queue.length === 0 && !this.streaming && this.draining) {
      if (this.deadlineKind !== T_DRAIN) this.setDeadline(T_DRAIN, now + DRAIN_GRACE_MS);
    } else if (parser.idle && this.queue.length === 0 && !this.streaming) {
      // A new connection gets the headers timeout for its first request (a client may connect
      // ahead of time); between requests it is the keep-alive timeout. Either way a quiet close.
      this.setDeadline(T_IDLE, now + (this.requestsSeen === 0 ? this.headersTimeoutMs : this.keepAliveTimeoutMs));
    } else {
      this.setDeadline(T_NONE, 0); // busy on our side: the handler or the writer has the turn
    }
  }

  private setDeadline(kind: number, at: number): void {
    this.deadlineKind = kind;
    this.deadline = at;
    if (kind === T_NONE) return;
    // Re-arm only when the deadline moved earlier; a later one is handled when the timer fires.
    if (this.timer === null || at < this.timerAt) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timerAt = at;
      this.timer = setTimeout(onConnectionTimer, Math.max(1, at - Date.now()), this);
      this.timer.unref();
    }
  }

  /** @internal The connection's one timer fired (see setDeadline). */
  onTimer(): void {
    this.timer = null;
    if (this.closed || this.deadlineKind === T_NONE) return;
    const now = Date.now();
    if (now < this.deadline) {
      this.timerAt = this.deadline;
      this.timer = setTimeout(onConnectionTimer, this.deadline - now, this);
      this.timer.unref();
      return;
    }
    const kind = this.deadlineKind;
    this.deadlineKind = T_NONE;
    if (kind === T_LINGER) {
      this.stream.destroy(); // the peer never closed its side after our last response
    } else if (kind === T_IDLE || kind === T_DRAIN) {
      this.closeAfterWrites();
    } else {
      this.protocolError(new HttpError(408, kind === T_HEADERS ? 'Request Timeout: headers not received in time' : 'Request Timeout: request not received in time'));
      this.writeReady();
      this.updateReading();
    }
  }
}

// The listeners every connection shares (see the constructor).
const kConnection = Symbol('sluice.connection');
type ConnectionStream = Duplex & { [kConnection]: Connection };
function onStreamData(this: ConnectionStream, chunk: Buffer): void { this[kConnection].onData(chunk); }
function onStreamEnd(this: ConnectionStream): void { this[kConnection].onPeerEnd(); }
function onStreamClose(this: ConnectionStream): void { this[kConnection].onClose(); }
function onStreamDrain(this: ConnectionStream): void { this[kConnection].onDrain(); }
function onConnectionTimer(conn: Connection): void { conn.onTimer(); }


function isReadable(body: unknown): body is Readable {
  return body instanceof Readable || (typeof (body as Readable).on === 'function' && typeof (body as Readable).pause === 'function' && typeof (body as Readable).resume === 'function');
}

function destroyBody(body: ResponseBody): void {
  if (body !== null && typeof body === 'object' && typeof (body as { destroy?: () => void }).destroy === 'function') {
    (body as { destroy: () => void }).destroy();
  }
}

function defaultOnError(err: unknown): void {
  console.error('sluice: handler error:', err);
}
