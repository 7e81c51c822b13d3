// The writing side of a connection: responses leave strictly in request order, everything ready
// batched into one write; a streamed body holds the line until it is done; after the last
// response our side ends, then the stream is destroyed or lingers to drain unread input.
import { currentDateLine, errorBody, errorResponse } from '../encode.js';
import type { IncomingRequest } from '../request.js';
import { ConnectionBase, onStreamFinish } from './base.js';
import { BodyWriter, SLICED_BODY_MIN, type BodyWriterOwner } from './body-writer.js';
import { clock } from './deadlines.js';
import { Framing, frameResponse, type FramedResponse } from './framing.js';
import { Output } from './output.js';
import { Continue, Exchange, Read, Write } from './state.js';

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const CHUNKED_END = Buffer.from('0\r\n\r\n', 'latin1');

export abstract class Responder extends ConnectionBase implements BodyWriterOwner {
  protected abstract resumeParsing(): void;

  protected get out(): Output {
    return (this.output ??= new Output());
  }

  bodyWanted(req: IncomingRequest): void {
    if (req._continue !== Continue.Awaited) return;
    if (req === this.queue.first && this.wr === Write.Open) {
      this.setContinue(req, Continue.Sent);
      this.out.bytes(CONTINUE); // behind any response already gathered but not yet flushed
      if (!this.pumping) this.flushOut();
    } else {
      this.setContinue(req, Continue.Due); // written when its turn comes, so 1xx never overtakes an earlier response
    }
  }

  // ---- writing ------------------------------------------------------------------------------

  /** Writes every response that is ready at the head of the queue, in order; closes after the last. */
  protected writeReady(): void {
    if (this.wr !== Write.Open) return;
    const queue = this.queue;
    while (queue.length > 0) {
      const req = queue.first!;
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
    if (queue.length === 0 && this.output !== null && this.output.empty) this.output = null; // (an idle connection holds none)
    const rd = this.rd;
    if (queue.length === 0 && (rd === Read.Done || rd === Read.Discard || rd === Read.Eof)) this.closeAfterWrites();
  }

  /** Gathers `req`'s response (or starts streaming it). Returns true when the connection closes after it. */
  protected writeResponse(req: IncomingRequest): boolean {
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
    this.blocked(clock());
  }

  /** True when the connection should close after `req`'s response (shutdown in progress and nothing else pending). */
  protected stopAfter(req: IncomingRequest): boolean {
    return this.draining && this.queue.length === 0 && this.receiving === null && this.parserIdle && req._bodyComplete;
  }

  /** A response is fully handed to the stream. Returns true when it was the connection's last. */
  protected finish(req: IncomingRequest, keepAlive: boolean): boolean {
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
    for (const later of this.queue.takeAll()) this.release(later, later._response?.status ?? 0, 0, true);
    // Closing. A handler that answered early and still reads the rest of its body gets it (reading
    // goes on until its END, then the connection closes); anything else still arriving is dropped.
    if (!(this.receiving === req && req._reading)) this.stopReading();
    return true;
  }

  protected flushOut(): void {
    const out = this.output;
    if (out === null || out.empty || this.wr === Write.Closed) return;
    if (!out.flush(this.stream)) this.blocked(clock());
  }

  /** A write is waiting for the peer to read: the send timeout runs from now (unless it runs already). */
  protected blocked(now: number): void {
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
  protected closeAfterWrites(): void {
    if (this.wr !== Write.Open) return;
    if (this.rd === Read.Head) this.stopReading(); // (Read.Body here: see finish)
    this.setWrite(Write.Ending);
    const stream = this.stream;
    stream.end();
    const now = clock();
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
    const now = clock();
    this.lingerSince = now;
    this.updateReading();
    this.updateDeadline(now);
  }
}
