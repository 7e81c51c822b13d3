// One HTTP/1.1 connection over any duplex byte stream (a TCP or TLS socket, or an in-memory fake
// in tests): the async book's `handle_connection`. It feeds received bytes to the parser, hands
// each request to the handler as soon as its head is parsed (so pipelined requests run
// concurrently), writes responses strictly in request order, batching everything that is ready
// into one write, and owns keep-alive, timeouts, flow control and graceful close.
//
// Its life is two small state machines (h1/state.ts): `rd`, what the reading side does with
// input, and `wr`, what the writing side does; each exchange has its own. Framing is a pure
// function (framing.ts), streaming bodies live in body-writer.ts, deadlines on one process-wide
// wheel (deadlines.ts), and the request's side of things in ../request.ts.
import type { Duplex } from 'node:stream';
import { HttpError } from '../errors.js';
import { FieldList } from '../fields.js';
import { currentDateLine, errorBody, errorResponse } from '../encode.js';
import { BODY_NONE, DATA, END, HEAD, NEED_DATA, RequestParser } from '../parser.js';
import { IncomingRequest, type BodySource, type ConnectionInfo } from '../request.js';
import type { Handler, ResponseBody, SluiceResponse } from '../types.js';
import { BodyWriter, SLICED_BODY_MIN, type BodyWriterOwner } from './body-writer.js';
import { wheel, type Timed } from './deadlines.js';
import { Framing, frameResponse, type FramedResponse } from './framing.js';
import { DRAIN_GRACE_MS, LINGER_MS, settingsOf, type ConnectionOptions, type Settings } from './options.js';
import { Output } from './output.js';
import {
  Continue, CONTINUE_TRANSITIONS, Exchange, EXCHANGE_TRANSITIONS, lastIllegal, move, Read, READ_TRANSITIONS, Write, WRITE_TRANSITIONS,
} from './state.js';

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const CHUNKED_END = Buffer.from('0\r\n\r\n', 'latin1');

/** Which deadline is armed. */
const enum Due { None, Idle, Headers, Request, Drain, Send, Linger }

export function streamInfo(stream: Duplex): ConnectionInfo {
  const s = stream as { remoteAddress?: string; remotePort?: number; encrypted?: boolean };
  return { remoteAddress: s.remoteAddress, remotePort: s.remotePort, scheme: s.encrypted === true ? 'https' : 'http', forwarded: null };
}

export class Connection implements BodySource, BodyWriterOwner, Timed {
  /** Resolves when the connection is closed and every exchange is settled. */
  readonly done: Promise<void>;

  private readonly stream: Duplex;
  private readonly handler: Handler;
  private readonly settings: Settings;
  private readonly parser: RequestParser;
  /** Created on first use: an idle connection needs no output buffer. */
  private output: Output | null = null;
  /** As given, or read off the socket on first use (reading the peer address allocates). */
  private given: ConnectionInfo | undefined;
  private rd: Read = Read.Head;
  private wr: Write = Write.Open;
  /** Requests whose responses are not yet (fully) written, in request order. */
  private readonly queue: IncomingRequest[] = [];
  /** The request whose body is being received. */
  private receiving: IncomingRequest | null = null;
  /** The request whose body is streaming out (it has left the queue), and its writer. */
  private writing: IncomingRequest | null = null;
  private writer: BodyWriter | null = null;
  private framed: FramedResponse | null = null;
  /** Shutdown was asked for (drain()): the next response is the last, an idle connection closes after a grace. */
  private draining = false;
  /** Re-entrancy guard: pump() is on the stack (a handler or body consumer may call back into us). */
  private pumping = false;
  private repump = false;
  /** When the first byte of the request being received arrived. */
  private messageStart = 0;
  /** Since when a write waits for the peer to read (0: none waits), and how much was buffered then. */
  private sendSince = 0;
  private sendMark = 0;
  /** When our side finished with unread input left: the lingering close runs from here. */
  private lingerSince = 0;
  private requestsSeen = 0;
  // Timed (the wheel's view)
  deadline = 0;
  wheelKey = 0;
  private due: Due = Due.None;
  private resolveDone!: () => void;

  constructor(stream: Duplex, handler: Handler, options: ConnectionOptions = {}, info?: ConnectionInfo) {
    this.stream = stream;
    this.handler = handler;
    this.settings = settingsOf(options);
    this.parser = new RequestParser(options);
    this.given = info;
    this.done = new Promise((r) => (this.resolveDone = r));
    // Shared listeners that find their connection on the stream: no closures per connection.
    (stream as ConnectionStream)[kConnection] = this;
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('error', onStreamClose); // 'close' follows; errors on a socket are the peer's business
    stream.on('close', onStreamClose);
    stream.on('drain', onStreamDrain);
    if (stream.destroyed) { this.onClose(); return; }
    this.updateDeadline(Date.now());
    if (stream.isPaused()) stream.resume(); // accepted with pauseOnConnect
  }

  get info(): ConnectionInfo {
    return (this.given ??= streamInfo(this.stream));
  }

  private get out(): Output {
    return (this.output ??= new Output());
  }

  /**
   * Graceful shutdown: finish what was received, then close. An idle connection closes after a
   * short grace: a request may be in flight towards us; if it arrives in time it is answered, with Connection: close.
   */
  drain(): void {
    if (this.draining || this.wr === Write.Closed) return;
    this.draining = true;
    this.updateDeadline(Date.now());
  }

  /** Cuts the connection now. */
  destroy(): void {
    this.stream.destroy();
  }

  // ---- states -------------------------------------------------------------------------------

  private setRead(to: Read): void {
    if (!move('read', READ_TRANSITIONS, this.rd, to)) this.broken();
    this.rd = to;
  }

  private setWrite(to: Write): void {
    if (!move('write', WRITE_TRANSITIONS, this.wr, to)) this.broken();
    this.wr = to;
  }

  private setExchange(req: IncomingRequest, to: Exchange): void {
    if (!move('exchange', EXCHANGE_TRANSITIONS, req._state, to)) this.broken();
    req._state = to;
  }

  private setContinue(req: IncomingRequest, to: Continue): void {
    if (!move('continue', CONTINUE_TRANSITIONS, req._continue, to)) this.broken();
    req._continue = to;
  }

  /** An illegal transition outside strict mode: a bug in sluice. Report it and cut this connection only. */
  private broken(): void {
    this.settings.onError(lastIllegal, null);
    this.stream.destroy();
  }

  /** No more requests will be parsed: input is unread (linger) unless the parser holds nothing. */
  private stopReading(): void {
    if (this.rd === Read.Head) this.setRead(this.parser.idle ? Read.Done : Read.Discard);
    else if (this.rd === Read.Body) {
      this.receiving?._discard();
      this.receiving = null;
      this.setRead(Read.Discard);
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  /** @internal */
  onData(chunk: Buffer): void {
    const rd = this.rd;
    if (rd === Read.Head || rd === Read.Body) {
      if (this.parser.idle) this.messageStart = 0;
      this.parser.feed(chunk);
      this.pump();
    } else if (rd === Read.Done) {
      this.setRead(Read.Discard); // bytes after the last request: dropped, and the close lingers
      if (this.wr === Write.Finished) this.updateDeadline(Date.now());
    }
    // (Discard: read and dropped, which keeps the kernel buffer empty so close() sends FIN, not RST)
  }

  /** Pulls events out of the parser while the connection can take them, then writes what is ready. */
  private pump(): void {
    if (this.pumping || this.wr === Write.Closed) return;
    this.pumping = true;
    const parser = this.parser;
    const now = Date.now();
    try {
      do {
        this.repump = false;
        while (this.rd === Read.Head || this.rd === Read.Body) {
          const receiving = this.receiving;
          if (receiving !== null ? !receiving._wantsData() : this.queue.length >= this.settings.maxPipelined) break;
          if (this.messageStart === 0 && !parser.idle) this.messageStart = now;
          let ev;
          try {
            ev = parser.next();
          } catch (err) {
            this.protocolError(err as HttpError);
            break;
          }
          if (ev === NEED_DATA) break;
          if (ev === HEAD) this.onHead();
          else if (ev === DATA) receiving!._push(parser.data);
          else if (ev === END) {
            this.receiving = null;
            this.messageStart = 0;
            parser.head = null; // (the request keeps its own reference)
            receiving!._end();
            if (receiving!._head.keepAlive && this.wr <= Write.Streaming) this.setRead(Read.Head);
            else this.setRead(parser.idle ? Read.Done : Read.Discard);
          }
        }
      } while (this.repump && (this.wr as Write) !== Write.Closed);
    } finally {
      this.pumping = false;
    }
    this.writeReady();
    if (this.wr === Write.Finished && this.rd === Read.Done) { this.stream.destroy(); return; }
    this.updateReading();
    this.updateDeadline(now);
  }

  private onHead(): void {
    const parser = this.parser;
    const head = parser.head!;
    const req = new IncomingRequest(head, this);
    req._startedAt = performance.now();
    this.requestsSeen++;
    this.queue.push(req);
    if (head.bodyKind !== BODY_NONE) {
      this.receiving = req;
      this.setRead(Read.Body);
    } else {
      this.messageStart = 0;
      parser.head = null;
      if (!head.keepAlive) this.setRead(parser.idle ? Read.Done : Read.Discard);
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
    if (req._state !== Exchange.Handling) {
      // Replaced by an error, or the connection is gone: nobody will write it. Release its file handle or stream now.
      destroyBody(res.body);
      return;
    }
    req._response = res;
    this.setExchange(req, Exchange.Ready);
    if (req === this.queue[0] && !this.pumping) {
      this.writeReady();
      this.resumeParsing();
    }
  }

  /** After progress on the writing side: parse what is buffered if we can, else just re-gate reading. */
  private resumeParsing(): void {
    if (this.wr === Write.Closed) return;
    if (this.pumping) { this.repump = true; return; } // (a body consumer reading synchronously inside pump)
    if (this.rd === Read.Head || this.rd === Read.Body) this.pump(); // cheap when nothing is buffered; an END may be due
    else { this.updateReading(); this.updateDeadline(Date.now()); }
  }

  private failureResponse(err: unknown, req: IncomingRequest): SluiceResponse {
    if (err instanceof HttpError) return { status: err.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${err.message}\n` };
    this.settings.onError(err, req);
    return { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: errorBody(500, '') };
  }

  /** A malformed request or a timeout: answer it in order, then close. */
  private protocolError(err: Error): void {
    const httpErr = err instanceof HttpError ? err : new HttpError(400, 'Bad Request');
    const receiving = this.receiving;
    this.receiving = null;
    if (this.rd === Read.Head || this.rd === Read.Body) this.setRead(Read.Discard);
    if (receiving !== null) {
      receiving._fail(httpErr);
      if (receiving._state === Exchange.Handling || receiving._state === Exchange.Ready) {
        // Its own response is replaced by the error; a response the handler gives later is released on arrival.
        if (receiving._response !== null) destroyBody(receiving._response.body);
        receiving._response = null;
        receiving._override = httpErr;
        if (receiving._state === Exchange.Handling) this.setExchange(receiving, Exchange.Ready);
      }
      // (Otherwise its response is out already: the connection closes after the writes.)
      return;
    }
    // An error before any head was parsed: a response of its own, after those already queued.
    const pseudo = new IncomingRequest(
      { method: 'GET', target: '', path: '', query: '', minorVersion: 1, headers: new FieldList(), keepAlive: false,
        expectContinue: false, bodyKind: BODY_NONE, contentLength: 0, trailers: null },
      this,
    );
    pseudo._override = httpErr;
    pseudo._startedAt = performance.now();
    this.setExchange(pseudo, Exchange.Ready);
    this.queue.push(pseudo);
  }

  /** @internal */
  onPeerEnd(): void {
    if (this.rd === Read.Closed || this.rd === Read.Eof) return;
    // The peer sent all it will send: a partial body is an error (a partial head is simply dropped).
    if (this.receiving !== null) this.protocolError(new HttpError(400, 'Bad Request: incomplete request body'));
    this.setRead(Read.Eof);
    if (this.wr === Write.Finished) this.stream.destroy();
    else this.writeReady(); // and closes once nothing is left to answer
  }

  /** Pauses or resumes the stream from the conditions that gate reading. */
  private updateReading(): void {
    const rd = this.rd;
    if (rd === Read.Eof || rd === Read.Closed) return;
    let want: boolean;
    if (rd === Read.Done || rd === Read.Discard) want = true; // keep reading: to drop, or to notice bytes after the last request
    else if (this.stream.writableNeedDrain) want = false;
    else if (this.receiving !== null) want = this.receiving._wantsData();
    else want = this.queue.length < this.settings.maxPipelined;
    const stream = this.stream;
    if (want === !stream.isPaused()) return;
    if (want) stream.resume();
    else stream.pause();
  }

  // BodySource

  bodyWanted(req: IncomingRequest): void {
    if (req._continue !== Continue.Awaited) return;
    if (req === this.queue[0] && this.wr === Write.Open) {
      this.setContinue(req, Continue.Sent);
      this.out.bytes(CONTINUE); // behind any response already gathered but not yet flushed
      if (!this.pumping) this.flushOut();
    } else {
      this.setContinue(req, Continue.Due); // written when its turn comes, so 1xx never overtakes an earlier response
    }
  }

  bodyResumed(): void {
    this.resumeParsing();
  }

  // ---- writing ------------------------------------------------------------------------------

  /** Writes every response that is ready at the head of the queue, in order; closes after the last. */
  private writeReady(): void {
    if (this.wr !== Write.Open) return;
    const queue = this.queue;
    while (queue.length > 0) {
      const req = queue[0]!;
      if (req._state === Exchange.Handling) {
        if (req._continue === Continue.Due) {
          this.setContinue(req, Continue.Sent);
          this.out.bytes(CONTINUE);
        }
        break;
      }
      queue.shift();
      if (this.writeResponse(req)) { // that was the last response
        this.flushOut();
        this.closeAfterWrites();
        return;
      }
      if (this.wr !== Write.Open) return; // a body is streaming (the writer flushed what was gathered)
    }
    this.flushOut();
    if (queue.length === 0) queue.length = 0; // (lets the array drop its grown backing store while idle)
    const rd = this.rd;
    if (queue.length === 0 && (rd === Read.Done || rd === Read.Discard || rd === Read.Eof)) this.closeAfterWrites();
  }

  /** Gathers `req`'s response (or starts streaming it). Returns true when the connection closes after it. */
  private writeResponse(req: IncomingRequest): boolean {
    const isHead = req.method === 'HEAD';
    const override = req._override;
    if (override !== null) {
      this.out.text(errorResponse(override.status, override.message, isHead));
      this.release(req, override.status, isHead ? 0 : Buffer.byteLength(errorBody(override.status, override.message)), false);
      return this.finish(req, false);
    }
    const res = req._response!;
    const head = req._head;
    const keepAlive = head.keepAlive && !this.stopAfter(req) &&
      // a client still waiting for 100 Continue will not send the body it announced: the framing is lost
      !(!req._bodyComplete && (req._continue === Continue.Awaited || req._continue === Continue.Due));
    let framed: FramedResponse;
    try {
      framed = frameResponse({ head: isHead, minorVersion: head.minorVersion, keepAlive }, res, currentDateLine());
    } catch (err) {
      // The head cannot be written as given (see encode.ts): a 500 instead, the error to onError.
      this.settings.onError(err, req);
      this.out.text(errorResponse(500, '', isHead));
      this.release(req, 500, isHead ? 0 : errorBody(500, '').length, false);
      return this.finish(req, false);
    }
    const body = framed.body;
    if (typeof framed.head === 'string') this.out.text(framed.head);
    else this.out.bytes(framed.head);
    if (body === null) {
      this.release(req, framed.status, 0, false);
    } else if (typeof body === 'string') {
      this.out.text(body, framed.length);
      this.release(req, framed.status, framed.length, false);
    } else if (body instanceof Uint8Array && body.byteLength < SLICED_BODY_MIN) {
      this.out.bytes(body);
      this.release(req, framed.status, body.byteLength, false);
    } else {
      if (!framed.keepAlive && this.rd === Read.Head) this.stopReading(); // nothing parsed after this one would be answered
      this.setExchange(req, Exchange.Writing);
      this.setWrite(Write.Streaming);
      this.writing = req;
      this.framed = framed;
      this.writer = new BodyWriter(this.stream, this, body, framed.framing, framed.length);
      this.flushOut();
      this.writer.start();
      return false;
    }
    return this.finish(req, framed.keepAlive);
  }

  /** BodyWriterOwner: the streamed body is written, failed, or abandoned. */
  bodyDone(err: Error | null, sent: number): void {
    const req = this.writing!;
    const framed = this.framed!;
    this.writing = null;
    this.writer = null;
    this.framed = null;
    if (err !== null || this.wr === Write.Closed) {
      if (err !== null && this.wr !== Write.Closed) this.settings.onError(err, req);
      this.release(req, framed.status, sent, true);
      this.stream.destroy(); // the head promised a body we could not deliver: the framing is broken
      return;
    }
    if (framed.framing === Framing.Chunked) this.out.bytes(CHUNKED_END);
    this.setWrite(Write.Open);
    this.release(req, framed.status, sent, false);
    if (this.finish(req, framed.keepAlive)) {
      this.flushOut();
      this.closeAfterWrites();
      return;
    }
    this.writeReady();
    this.resumeParsing();
  }

  /** BodyWriterOwner: the stream's buffer is full. */
  writeBlocked(): void {
    this.blocked(Date.now());
  }

  /**
   * The one place an exchange ends: its response was handed to the stream in full, or it never
   * will be (`aborted`). Releases what it holds (the response body's stream or file handle, a
   * body waiter, the abort signal) and reports it once.
   */
  private release(req: IncomingRequest, status: number, bodyBytes: number, aborted: boolean): void {
    if (req._state === Exchange.Done) return;
    this.setExchange(req, Exchange.Done);
    if (aborted) req._aborted();
    const res = req._response;
    if (res !== null) {
      req._response = null;
      destroyBody(res.body); // (harmless for a stream that ended; releases an unsent HEAD/204/304 body)
    }
    const onResponse = this.settings.onResponse;
    if (onResponse === null) return;
    try {
      onResponse(req, { status, bodyBytes, aborted });
    } catch (e) {
      this.settings.onError(e, req);
    }
  }

  /** True when the connection should close after `req`'s response (shutdown in progress and nothing else pending). */
  private stopAfter(req: IncomingRequest): boolean {
    return this.draining && this.queue.length === 0 && this.receiving === null && this.parser.idle && req._bodyComplete;
  }

  /** A response is fully handed to the stream. Returns true when it was the connection's last. */
  private finish(req: IncomingRequest, keepAlive: boolean): boolean {
    if (!req._bodyComplete) {
      if (req._continue === Continue.Awaited || req._continue === Continue.Due) {
        // The client is waiting for 100 before it sends the body; it won't come now (or may come anyway: linger).
        this.setContinue(req, Continue.Refused);
        req._fail(new Error('response sent before the body was read'));
        keepAlive = false;
        if (this.receiving === req) { this.receiving = null; this.setRead(Read.Discard); }
      } else if (keepAlive) {
        req._discard(); // read the rest of the body and drop it, then go on with the next request
        if (!this.pumping) queueMicrotask(() => this.resumeParsing());
      }
    }
    if (keepAlive) return false;
    for (const later of this.queue.splice(0)) this.release(later, later._response?.status ?? 0, 0, true);
    // Closing. A handler that answered early and still reads the rest of its body gets it (reading
    // goes on until its END, then the connection closes); anything else still arriving is dropped.
    if (!(this.receiving === req && req._reading)) this.stopReading();
    return true;
  }

  private flushOut(): void {
    const out = this.output;
    if (out === null || out.empty || this.wr === Write.Closed) return;
    if (!out.flush(this.stream)) this.blocked(Date.now());
  }

  /** A write is waiting for the peer to read: the send timeout runs from now (unless it runs already). */
  private blocked(now: number): void {
    if (this.sendSince === 0) { this.sendSince = now; this.sendMark = this.stream.writableLength; }
    this.updateDeadline(now);
  }

  /** @internal 'drain': the peer read what was buffered. */
  onDrain(): void {
    this.sendSince = 0;
    if (this.wr === Write.Streaming) this.writer!.resume();
    if (this.wr <= Write.Streaming) this.resumeParsing();
  }

  // ---- closing ------------------------------------------------------------------------------

  /** Ends our side once everything queued is written; then destroys, or lingers to drain unread input. */
  private closeAfterWrites(): void {
    if (this.wr !== Write.Open) return;
    if (this.rd === Read.Head) this.stopReading(); // (Read.Body here: see finish)
    this.setWrite(Write.Ending);
    const stream = this.stream;
    stream.end();
    const now = Date.now();
    // The last bytes must leave within the send timeout too (a client that never reads them).
    if (this.sendSince === 0) { this.sendSince = now; this.sendMark = stream.writableLength; }
    if (stream.writableFinished) this.onFinish();
    else { stream.once('finish', onStreamFinish); this.updateDeadline(now); }
  }

  /** @internal Our last bytes left. */
  onFinish(): void {
    if (this.wr !== Write.Ending) return;
    this.setWrite(Write.Finished);
    this.sendSince = 0;
    // Release the socket at once when nothing unread can be on its way: the peer is done, or it
    // sent complete requests only (nginx's lingering-close heuristic). Otherwise keep reading and
    // dropping for a while: closing with unread bytes makes the kernel send RST, which can destroy
    // the response we just sent. (Read.Body: a handler still reads the rest of the body; END closes.)
    if (this.rd === Read.Eof || this.rd === Read.Done) { this.stream.destroy(); return; }
    const now = Date.now();
    this.lingerSince = now;
    this.updateReading();
    this.updateDeadline(now);
  }

  /** @internal */
  onClose(): void {
    if (this.wr === Write.Closed) return;
    this.setWrite(Write.Closed);
    this.setRead(Read.Closed);
    wheel.set(this, 0, 0);
    this.receiving?._fail(new Error('connection closed'));
    this.receiving = null;
    this.writer?.abort(); // → bodyDone: released as aborted
    for (const req of this.queue.splice(0)) this.release(req, req._response?.status ?? 0, 0, true);
    if (!this.stream.destroyed) this.stream.destroy();
    this.resolveDone();
  }

  // ---- deadlines: one per connection, on the process-wide wheel ------------------------------

  private updateDeadline(now: number): void {
    const wr = this.wr, rd = this.rd;
    let due = Due.None;
    let at = 0;
    if (wr === Write.Closed) {
      // none
    } else if (this.sendSince !== 0 && (wr === Write.Ending || this.stream.writableNeedDrain)) {
      due = Due.Send;
      at = this.sendSince + this.settings.sendTimeoutMs;
    } else if (wr === Write.Finished && rd === Read.Discard) {
      due = Due.Linger;
      at = this.lingerSince + LINGER_MS;
    } else if (rd === Read.Body || (rd === Read.Head && !this.parser.idle)) {
      if (!this.stream.isPaused()) { // (paused: the handler or the writer has the turn)
        const start = this.messageStart || now;
        due = rd === Read.Body ? Due.Request : Due.Headers;
        at = start + (due === Due.Request ? this.settings.requestTimeoutMs : this.settings.headersTimeoutMs);
      }
    } else if (rd === Read.Head && this.queue.length === 0 && wr === Write.Open) {
      if (this.draining) {
        due = Due.Drain;
        at = this.due === Due.Drain ? this.deadline : now + DRAIN_GRACE_MS;
      } else {
        // A new connection gets the headers timeout for its first request (a client may connect
        // ahead of time); between requests it is the keep-alive timeout. Either way a quiet close.
        due = Due.Idle;
        at = now + (this.requestsSeen === 0 ? this.settings.headersTimeoutMs : this.settings.keepAliveTimeoutMs);
      }
    }
    this.due = due;
    wheel.set(this, at, now);
  }

  /** Timed: the deadline passed. */
  onDeadline(now: number): void {
    const due = this.due;
    this.due = Due.None;
    switch (due) {
      case Due.Send:
        if (this.stream.writableLength < this.sendMark) { // some bytes left since: progress, wait on
          this.sendSince = now;
          this.sendMark = this.stream.writableLength;
          this.updateDeadline(now);
        } else {
          this.stream.destroy(); // the peer stopped reading
        }
        return;
      case Due.Linger: this.stream.destroy(); return; // the peer never closed its side after our last response
      case Due.Idle: case Due.Drain: this.closeAfterWrites(); return;
      case Due.Headers: case Due.Request:
        this.protocolError(new HttpError(408, due === Due.Headers ? 'Request Timeout: headers not received in time' : 'Request Timeout: request not received in time'));
        this.writeReady();
        this.updateReading();
        this.updateDeadline(now);
        return;
      default:
    }
  }
}

/**
 * Serves HTTP/1.1 on `stream` with `handler` until the peer goes away or the connection is closed.
 * Never rejects: protocol errors are answered (4xx/5xx) and handler errors become 500.
 */
export function handleConnection(stream: Duplex, handler: Handler, options: ConnectionOptions = {}, info?: ConnectionInfo): Promise<void> {
  return new Connection(stream, handler, options, info).done;
}

// The listeners every connection shares (see the constructor).
const kConnection = Symbol('sluice.connection');
type ConnectionStream = Duplex & { [kConnection]: Connection };
function onStreamData(this: ConnectionStream, chunk: Buffer): void { this[kConnection].onData(chunk); }
function onStreamEnd(this: ConnectionStream): void { this[kConnection].onPeerEnd(); }
function onStreamClose(this: ConnectionStream): void { this[kConnection].onClose(); }
function onStreamDrain(this: ConnectionStream): void { this[kConnection].onDrain(); }
function onStreamFinish(this: ConnectionStream): void { this[kConnection].onFinish(); }

function destroyBody(body: ResponseBody): void {
  if (body !== null && typeof body === 'object' && typeof (body as { destroy?: () => void }).destroy === 'function') {
    (body as { destroy: () => void }).destroy();
  }
}
