// One HTTP/1.1 connection over any duplex byte stream (a TCP or TLS socket, or an in-memory fake
// in tests): the async book's `handle_connection`. It feeds received bytes to the parser, hands
// each request to the handler as soon as its head is parsed (so pipelined requests run
// concurrently), writes responses strictly in request order, batching everything that is ready
// into one write, and owns keep-alive, timeouts, flow control and graceful close.
//
// Its life is two small state machines (state.ts): `rd`, what the reading side does with input,
// and `wr`, what the writing side does; each exchange has its own. This file is the reading side
// and the public API; the core (fields, state changes, release, deadline) is base.ts, the writing
// side respond.ts, framing a pure function in framing.ts, streamed bodies body-writer.ts, and the
// request's side of things ../request.ts.
import type { Duplex } from 'node:stream';
import { HttpError, isNotAResponse, notAResponseError } from '../errors.js';
import { FieldList } from '../fields.js';
import { errorBody } from '../encode.js';
import { BODY_NONE, DATA, END, HEAD, NEED_DATA } from '../parser.js';
import { IncomingRequest, type BodySource, type ConnectionInfo } from '../request.js';
import type { Handler, SluiceResponse } from '../types.js';
import { destroyBody, kConnection, onStreamClose, onStreamData, onStreamDrain, onStreamEnd, streamInfo, type ConnectionStream } from './base.js';
import { clock, wheel } from './deadlines.js';
import type { ConnectionOptions } from './options.js';
import { Responder } from './respond.js';
import { Exchange, Read, Write } from './state.js';

export class Connection extends Responder implements BodySource {
  constructor(stream: Duplex, handler: Handler, options: ConnectionOptions = {}, info?: ConnectionInfo) {
    super(stream, handler, options, info);
    // Shared listeners that find their connection on the stream: no closures per connection.
    (stream as ConnectionStream)[kConnection] = this;
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('error', onStreamClose); // 'close' follows; errors on a socket are the peer's business
    stream.on('close', onStreamClose);
    stream.on('drain', onStreamDrain);
    if (stream.destroyed) { this.onClose(); return; }
    this.updateDeadline(clock());
    if (stream.isPaused()) stream.resume(); // accepted with pauseOnConnect
  }

  get info(): ConnectionInfo {
    return (this.given ??= streamInfo(this.stream));
  }

  /**
   * Graceful shutdown: finish what was received, then close. An idle connection closes after a
   * short grace: a request may be in flight towards us; if it arrives in time it is answered, with Connection: close.
   */
  drain(): void {
    if (this.draining || this.wr === Write.Closed) return;
    this.draining = true;
    this.updateDeadline(clock());
  }

  /** Cuts the connection now. */
  destroy(): void {
    this.stream.destroy();
  }

  // ---- reading ------------------------------------------------------------------------------

  /** @internal */
  onData(chunk: Buffer): void {
    const rd = this.rd;
    if (rd === Read.Head || rd === Read.Body) {
      if (this.parserIdle) this.messageStart = 0;
      this.parser.feed(chunk);
      this.pump();
    } else if (rd === Read.Done) {
      this.setRead(Read.Discard); // bytes after the last request: dropped, and the close lingers
      if (this.wr === Write.Finished) this.updateDeadline(clock());
    }
    // (Discard: read and dropped, which keeps the kernel buffer empty so close() sends FIN, not RST)
  }

  /** Pulls events out of the parser while the connection can take them, then writes what is ready. */
  protected pump(): void {
    if (this.pumping || this.wr === Write.Closed) return;
    this.pumping = true;
    const parser = this.parser;
    const now = clock();
    try {
      do {
        this.repump = false;
        while ((this.rd === Read.Head || this.rd === Read.Body) && !(this.receiving === null && parser.idle)) {
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
    this.releaseParser();
    this.writeReady();
    if (this.wr === Write.Finished && this.rd === Read.Done) { this.stream.destroy(); return; }
    this.updateReading();
    this.updateDeadline(now);
  }

  protected onHead(): void {
    const parser = this.parser;
    const head = parser.head!;
    const req = new IncomingRequest(head, this);
    if (this.settings.onResponse !== null) req._startedAt = performance.now(); // (only logs and metrics read it)
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

  protected dispatch(req: IncomingRequest): void {
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

  protected settle(req: IncomingRequest, res: SluiceResponse): void {
    if (isNotAResponse(res)) res = this.failureResponse(notAResponseError(res), req);
    if (req._state === Exchange.Ready && req._override !== null) {
      req._response = res; // replaced by an error still waiting its turn: released with the exchange
      return;
    }
    if (req._state !== Exchange.Handling) {
      // The exchange is over (its error answer is out, or the connection is gone): nobody will write
      // this. Release its file handle or stream now, as release() would have.
      destroyBody(res.body);
      return;
    }
    req._response = res;
    this.setExchange(req, Exchange.Ready);
    if (req === this.queue.first && !this.pumping) {
      this.writeReady();
      this.resumeParsing();
    }
  }

  /** After progress on the writing side: parse what is buffered if we can, else just re-gate reading. */
  protected resumeParsing(): void {
    if (this.wr === Write.Closed) return;
    if (this.pumping) { this.repump = true; return; } // (a body consumer reading synchronously inside pump)
    const reading = this.rd === Read.Head || this.rd === Read.Body;
    if (reading && !this.parserIdle) { this.pump(); return; } // bytes are waiting (an END may be due)
    if (reading) this.writeReady();
    this.updateReading();
    this.updateDeadline(clock());
  }

  protected failureResponse(err: unknown, req: IncomingRequest): SluiceResponse {
    if (err instanceof HttpError) return { status: err.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${err.message}\n` };
    this.settings.onError(err, req);
    return { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: errorBody(500, '') };
  }

  /** A malformed request or a timeout: answer it in order, then close. */
  protected protocolError(err: Error): void {
    const httpErr = err instanceof HttpError ? err : new HttpError(400, 'Bad Request');
    const receiving = this.receiving;
    this.receiving = null;
    if (this.rd === Read.Head || this.rd === Read.Body) this.setRead(Read.Discard);
    if (receiving !== null) {
      receiving._fail(httpErr);
      if (receiving._state === Exchange.Handling || receiving._state === Exchange.Ready) {
        // Its own response is replaced by the error: the handler's (now or later) is released with the exchange.
        receiving._override = httpErr;
        if (receiving._state === Exchange.Handling) this.setExchange(receiving, Exchange.Ready);
      }
      // (Otherwise its response is out already: the connection closes after the writes.)
      return;
    }
    // An error before any head was parsed: a response of its own, after those already queued.
    const pseudo = new IncomingRequest(
      { method: '', target: '', path: '', query: '', minorVersion: 1, headers: new FieldList(), keepAlive: false,
        expectContinue: false, bodyKind: BODY_NONE, contentLength: 0, trailers: null },
      this,
    );
    pseudo._override = httpErr;
    if (this.settings.onResponse !== null) pseudo._startedAt = performance.now();
    this.setExchange(pseudo, Exchange.Ready);
    this.queue.push(pseudo);
  }

  /** @internal */
  onPeerEnd(): void {
    if (this.rd === Read.Closed || this.rd === Read.Eof) return;
    // The peer sent all it will send: a partial body is an error. A partial head is judged whole
    // (parser.finish), so a malformed one gets the same 4xx however its bytes arrived; a merely
    // unfinished one is dropped quietly.
    if (this.receiving !== null) this.protocolError(new HttpError(400, 'Bad Request: incomplete request body'));
    else if (this.rd === Read.Head) {
      try {
        this.parser.finish();
      } catch (err) {
        if (err instanceof HttpError) this.protocolError(err);
      }
    }
    this.setRead(Read.Eof);
    if (this.wr === Write.Finished) this.stream.destroy();
    else this.writeReady(); // and closes once nothing is left to answer
  }

  /** Pauses or resumes the stream from the conditions that gate reading. */
  protected updateReading(): void {
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

  bodyResumed(): void {
    this.resumeParsing();
  }

  // ---- closed -------------------------------------------------------------------------------

  /** @internal */
  onClose(): void {
    if (this.wr === Write.Closed) return;
    this.setWrite(Write.Closed);
    this.setRead(Read.Closed);
    wheel.set(this, 0, 0);
    this.receiving?._fail(new Error('connection closed'));
    this.receiving = null;
    this.writer?.abort(); // → bodyDone: released as aborted
    for (const req of this.queue.takeAll()) this.release(req, req._response?.status ?? 0, 0, true);
    if (!this.stream.destroyed) this.stream.destroy();
    this.settled();
  }
}

/**
 * Serves HTTP/1.1 on `stream` with `handler` until the peer goes away or the connection is closed.
 * Never rejects: protocol errors are answered (4xx/5xx) and handler errors become 500.
 */
export function handleConnection(stream: Duplex, handler: Handler, options: ConnectionOptions = {}, info?: ConnectionInfo): Promise<void> {
  return new Connection(stream, handler, options, info).done;
}
