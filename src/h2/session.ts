// HTTP/2 sessions on TLS sockets whose ALPN chose "h2": node:http2 does the framing, each stream
// goes to the same sluice Handler as an HTTP/1.1 request. This file owns the per-session rules:
// stream and header limits, a cap on client resets per second (the "rapid reset" attack:
// open a stream, cancel it at once, repeat), the idle timeout, graceful drain (GOAWAY) and the
// body limit / request timeout per stream.
import http2, { type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { destroyBody, streamInfo, type ConnectionOptions } from '../http/connection.js';
import type { ConnectionInfo } from '../http/request.js';
import { HttpError, isNotAResponse, notAResponseError } from '../http/errors.js';
import { DEFAULT_LIMITS } from '../http/parser.js';
import type { Handler, SluiceResponse } from '../http/types.js';
import { H2Request } from './request.js';
import { writeResponse, type Written } from './respond.js';

export interface Http2Options {
  /** Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). Default 100. */
  maxConcurrentStreams?: number;
  /** Request header list size (names + values + 32 per field), 431 beyond. Default: maxHeaderSize. */
  maxHeaderListSize?: number;
  /** Streams a client may reset per second; beyond it the session ends with GOAWAY ENHANCE_YOUR_CALM. Default 100. */
  maxResetsPerSecond?: number;
  /** A session with no open stream is closed (GOAWAY) after this. Default: keepAliveTimeoutMs (5000). */
  idleTimeoutMs?: number;
}

const {
  NGHTTP2_NO_ERROR, NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM,
} = http2.constants;

const TEXT = 'text/plain; charset=utf-8';
const INTERNAL_ERROR: SluiceResponse = Object.freeze({ status: 500, headers: Object.freeze({ 'Content-Type': TEXT }), body: 'Internal Server Error\n' });

interface Limits {
  maxBodySize: number;
  maxTargetLength: number;
  maxHeaderListSize: number;
  maxResetsPerSecond: number;
  idleTimeoutMs: number;
  requestTimeoutMs: number;
}

/** The node:http2 server that turns sockets into sessions; one per sluice server. */
export class H2Front {
  private readonly server: http2.Http2Server;
  private readonly limits: Limits;
  private captured: ServerHttp2Session | null = null;

  constructor(readonly handler: Handler, readonly options: ConnectionOptions, h2: Http2Options = {}) {
    const maxHeaderListSize = h2.maxHeaderListSize ?? options.maxHeaderSize ?? DEFAULT_LIMITS.maxHeaderSize;
    this.limits = {
      maxBodySize: options.maxBodySize ?? DEFAULT_LIMITS.maxBodySize,
      maxTargetLength: options.maxTargetLength ?? DEFAULT_LIMITS.maxTargetLength,
      maxHeaderListSize,
      maxResetsPerSecond: h2.maxResetsPerSecond ?? 100,
      idleTimeoutMs: h2.idleTimeoutMs ?? options.keepAliveTimeoutMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    };
    // createServer, not createSecureServer: TLS is done by sluice's own front, which hands over
    // the sockets that chose h2 (the others go to sluice's HTTP/1.1 engine).
    this.server = http2.createServer({
      settings: { maxConcurrentStreams: h2.maxConcurrentStreams ?? 100, maxHeaderListSize },
      maxHeaderListPairs: 256,
    });
    this.server.on('session', (s: ServerHttp2Session) => { this.captured = s; });
  }

  /**
   * Starts an HTTP/2 session on a TLS socket that negotiated h2. `info`: the connection's client
   * as the server's proxy step saw it (PROXY preamble, trusted proxies); default: the socket's own.
   */
  serve(socket: TLSSocket, info: ConnectionInfo = streamInfo(socket)): H2Connection {
    this.captured = null;
    // The TLS server keeps sockets half-open for HTTP/1.1's sake; HTTP/2 has no use for a half-closed
    // connection, and node:http2 waits for the socket's 'close' before the session's: without this,
    // a client that sends FIN with streams in flight would leave the session open forever.
    socket.allowHalfOpen = false;
    this.server.emit('connection', socket); // node:http2 makes the session and emits 'session' at once
    const session = this.captured as ServerHttp2Session | null;
    if (session === null) {
      socket.destroy();
      return H2Connection.closed();
    }
    return new H2Connection(session, this, this.limits, info);
  }
}

// Per-stream state lives in an H2Exchange found on the stream by this key, so the listeners
// every stream needs are shared functions rather than closures made per stream.
const kExchange = Symbol('sluice.h2.exchange');
type ExchangeStream = ServerHttp2Stream & { [kExchange]?: H2Exchange };

function ignore(): void {}

function onExchangeClose(this: ExchangeStream): void {
  this[kExchange]!.onClose();
}

/** One client's session: its streams, its limits, its end. */
export class H2Connection {
  readonly done: Promise<void>;
  private readonly session: ServerHttp2Session | null;
  /** @internal */ readonly front: H2Front | null;
  /** @internal */ readonly limits: Limits | null;
  private open = 0;
  /** Made once per session and refreshed: a new timer each time the session goes idle costs more. */
  private idleTimer: NodeJS.Timeout | null = null;
  private resetWindowStart = 0;
  private resets = 0;
  /** @internal */ ending = false;
  /** The client, fixed for the session (read once: session.socket is a proxy, costly to reach per stream). */
  /** @internal */ readonly info: ConnectionInfo | null;

  static closed(): H2Connection {
    return new H2Connection(null, null, null, null);
  }

  constructor(session: ServerHttp2Session | null, front: H2Front | null, limits: Limits | null, info: ConnectionInfo | null) {
    this.session = session;
    this.front = front;
    this.limits = limits;
    this.info = info;
    if (session === null) {
      this.done = Promise.resolve();
      return;
    }
    this.done = new Promise((resolve) => session.once('close', resolve));
    session.on('error', ignore); // a broken session closes; its streams see it
    session.on('stream', (stream: ServerHttp2Stream, _headers: unknown, _flags: number, raw: string[]) => this.onStream(stream, raw));
    this.armIdle();
  }

  /** Graceful end: GOAWAY, open streams finish, then the session closes. */
  drain(): void {
    if (this.session === null || this.ending) return;
    this.ending = true;
    this.clearIdle();
    this.session.close();
  }

  destroy(): void {
    this.clearIdle();
    this.session?.destroy();
  }

  private armIdle(): void {
    if (this.ending) return;
    if (this.idleTimer === null) {
      this.idleTimer = setTimeout(() => { if (this.open === 0) this.drain(); }, this.limits!.idleTimeoutMs);
      this.idleTimer.unref();
    } else {
      this.idleTimer.refresh();
    }
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) { clearTimeout(this.idleTimer); this.idleTimer = null; }
  }

  /** @internal A stream closed; `resetByClient`: the client cancelled it before its response was out. */
  streamClosed(resetByClient: boolean): void {
    if (resetByClient) this.countReset();
    if (--this.open === 0) this.armIdle();
  }

  /** A stream the client reset: too many per second and the whole session goes. */
  private countReset(): void {
    const now = Date.now();
    if (now - this.resetWindowStart >= 1000) { this.resetWindowStart = now; this.resets = 0; }
    if (++this.resets > this.limits!.maxResetsPerSecond && !this.session!.destroyed) {
      this.ending = true;
      this.clearIdle();
      // goaway() then destroy(): destroy(err, code) alone sends its GOAWAY with NO_ERROR.
      this.session!.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
      this.session!.destroy();
    }
  }

  private onStream(stream: ServerHttp2Stream, raw: string[]): void {
    const limits = this.limits!;
    const front = this.front!;
    // (The idle timer is left running while streams are open: it does nothing then, and is
    // refreshed when the last one closes.)
    this.open++;
    const ex = new H2Exchange(this, stream, raw);
    const req = ex.req;
    (stream as ExchangeStream)[kExchange] = ex;
    stream.on('error', ignore); // resets and write errors end the stream; 'close' tidies up
    stream.on('close', onExchangeClose);

    // Limits checked before the handler runs, as the HTTP/1.1 parser does.
    let headerBytes = 0;
    for (let i = 0; i < raw.length; i++) headerBytes += raw[i].length + 16;
    if (headerBytes > limits.maxHeaderListSize) { ex.answer(errorResponse(431, 'Request Header Fields Too Large')); return; }
    if (req.target.length > limits.maxTargetLength) { ex.answer(errorResponse(414, 'URI Too Long')); return; }
    if (req.method === '' || (req.method !== 'CONNECT' && !req.target.startsWith('/') && req.target !== '*')) {
      ex.answer(errorResponse(400, 'Bad Request')); return;
    }
    const declared = req.headers.get('content-length');
    if (declared !== undefined && Number(declared) > limits.maxBodySize) { ex.answer(errorResponse(413, 'Content Too Large')); return; }
    if (req.hasBody) {
      ex.timer = setTimeout(onRequestTimeout, limits.requestTimeoutMs, ex);
      ex.timer.unref();
    }

    let result: SluiceResponse | Promise<SluiceResponse>;
    try {
      result = front.handler(req);
    } catch (err) {
      ex.answer(ex.fail(err));
      return;
    }
    if (result !== null && typeof (result as Promise<SluiceResponse>).then === 'function') {
      (result as Promise<SluiceResponse>).then((res) => ex.answered(res), (err) => ex.answer(ex.fail(err)));
    } else {
      ex.answered(result as SluiceResponse);
    }
  }
}

function onRequestTimeout(ex: H2Exchange): void {
  ex.timer = null;
  if (ex.req._bodyComplete) return;
  ex.req._fail(new HttpError(408, 'Request Timeout: request not received in time'));
  if (!ex.responded) ex.answer(errorResponse(408, 'Request Timeout: request not received in time'));
  else ex.closeStream(NGHTTP2_CANCEL);
}

/** One stream: its request, whether it was answered, its body timer. */
class H2Exchange {
  readonly req: H2Request;
  responded = false;
  resetByUs = false;
  timer: NodeJS.Timeout | null = null;
  /** Bound once, and only when the end of the response must be watched (see answer()). */
  private reporter: ((w: Written) => void) | null = null;

  constructor(readonly conn: H2Connection, readonly stream: ServerHttp2Stream, raw: string[]) {
    const onResponse = conn.front!.options.onResponse;
    this.req = new H2Request({ stream, rawHeaders: raw, info: conn.info!, maxBodySize: conn.limits!.maxBodySize, owner: this, clock: onResponse !== undefined });
  }

  /** @internal The body grew past maxBodySize (called by the request). */
  tooLarge(): void {
    if (!this.responded) this.answer(errorResponse(413, 'Content Too Large'));
    else this.closeStream(NGHTTP2_CANCEL);
  }

  closeStream(code: number): void {
    this.resetByUs = true;
    this.stream.close(code);
  }

  onClose(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    const stream = this.stream;
    let resetByClient = false;
    if (!stream.writableFinished || !this.responded) {
      this.req._aborted();
      resetByClient = stream.rstCode !== NGHTTP2_NO_ERROR && !this.resetByUs && !this.conn.ending;
    }
    this.conn.streamClosed(resetByClient);
  }

  fail(err: unknown): SluiceResponse {
    if (err instanceof HttpError) return errorResponse(err.status, err.message);
    logError(this.conn.front!, err);
    return INTERNAL_ERROR;
  }

  /** The handler's result, checked. */
  answered(res: SluiceResponse): void {
    this.answer(isNotAResponse(res) ? this.fail(notAResponseError(res)) : res);
  }

  answer(res: SluiceResponse): void {
    const stream = this.stream;
    if (this.responded || stream.closed || stream.destroyed) { destroyBody(res.body); return; }
    this.responded = true;
    // The end of the response matters only to an onResponse hook, or to a request body still
    // arriving (to be cut once the answer is out); otherwise nobody waits for it.
    const track = this.conn.front!.options.onResponse !== undefined || !this.req._bodyComplete;
    const done = track ? (this.reporter ??= (w: Written) => this.report(w)) : null;
    try {
      writeResponse(stream, this.req.method, res, done);
    } catch (err) {
      if (stream.headersSent) { this.closeStream(NGHTTP2_CANCEL); return; }
      logError(this.conn.front!, err);
      destroyBody(res.body);
      writeResponse(stream, this.req.method, INTERNAL_ERROR, done);
    }
  }

  private report(w: Written): void {
    const onResponse = this.conn.front!.options.onResponse;
    const req = this.req;
    // The hook is typed for the HTTP/1.1 engine's request; an H2Request has the same public fields and _startedAt.
    if (onResponse) onResponse(req as unknown as Parameters<typeof onResponse>[0], w);
    if (!req._bodyComplete && !this.stream.closed) {
      req._discard(); // the answer is out: an unread body is not wanted (RFC 9113 §8.1)
      this.closeStream(NGHTTP2_NO_ERROR);
    }
  }
}

function logError(front: H2Front, err: unknown): void {
  const onError = front.options.onError;
  if (onError) onError(err, null);
  else console.error('sluice: handler error:', err);
}

function errorResponse(status: number, message: string): SluiceResponse {
  return { status, headers: { 'Content-Type': TEXT }, body: `${message}\n` };
}
