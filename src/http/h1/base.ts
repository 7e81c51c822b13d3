// The connection's core: what it holds, its states and how they change, the one place an
// exchange ends, and its deadline (on the process-wide wheel). The writing side (respond.ts) and
// the reading side with the public API (connection.ts) build on it.
import type { Duplex } from 'node:stream';
import { HttpError } from '../errors.js';
import { RequestParser } from '../parser.js';
import type { ConnectionInfo, IncomingRequest } from '../request.js';
import type { Handler, ResponseBody } from '../types.js';
import type { BodyWriter } from './body-writer.js';
import { wheel, type Timed } from './deadlines.js';
import type { FramedResponse } from './framing.js';
import { DRAIN_GRACE_MS, LINGER_MS, settingsOf, type ConnectionOptions, type Settings } from './options.js';
import type { Output } from './output.js';
import { ExchangeQueue } from './queue.js';
import {
  Continue, CONTINUE_TRANSITIONS, Exchange, EXCHANGE_TRANSITIONS, lastIllegal, move, Read, READ_TRANSITIONS, Write, WRITE_TRANSITIONS,
} from './state.js';

/** Which deadline is armed. */
const enum Due { None, Idle, Headers, Request, Drain, Send, Linger }

/** The peer and transport of a stream that came with no ConnectionInfo: read off the socket. */
export function streamInfo(stream: Duplex): ConnectionInfo {
  const s = stream as { remoteAddress?: string; remotePort?: number; encrypted?: boolean };
  return { remoteAddress: s.remoteAddress, remotePort: s.remotePort, scheme: s.encrypted === true ? 'https' : 'http', forwarded: null };
}

export abstract class ConnectionBase implements Timed {
  protected readonly stream: Duplex;
  protected readonly handler: Handler;
  protected readonly settings: Settings;
  /** Created when bytes arrive, dropped when it holds nothing between requests (an idle connection needs none). */
  private parserRef: RequestParser | null = null;
  /** Created on first use: an idle connection needs no output buffer. */
  protected output: Output | null = null;
  /** As given, or read off the socket on first use (reading the peer address allocates). */
  protected given: ConnectionInfo | undefined;
  protected rd: Read = Read.Head;
  protected wr: Write = Write.Open;
  /** Requests whose responses are not yet (fully) written, in request order. */
  protected readonly queue = new ExchangeQueue();
  /** The request whose body is being received. */
  protected receiving: IncomingRequest | null = null;
  /** The request whose body is streaming out (it has left the queue), and its writer. */
  protected writing: IncomingRequest | null = null;
  protected writer: BodyWriter | null = null;
  protected framed: FramedResponse | null = null;
  /** Shutdown was asked for (drain()): the next response is the last, an idle connection closes after a grace. */
  protected draining = false;
  /** Re-entrancy guard: pump() is on the stack (a handler or body consumer may call back into us). */
  protected pumping = false;
  protected repump = false;
  /** When the first byte of the request being received arrived. */
  protected messageStart = 0;
  /** Since when a write waits for the peer to read (0: none waits), and how much was buffered then. */
  protected sendSince = 0;
  protected sendMark = 0;
  /** When our side finished with unread input left: the lingering close runs from here. */
  protected lingerSince = 0;
  protected requestsSeen = 0;
  // Timed (the wheel's view)
  deadline = 0;
  wheelKey = 0;
  private due: Due = Due.None;
  /** Called when the connection has closed (whenDone); a chain when there are several. */
  private onDone: (() => void) | null = null;

  constructor(stream: Duplex, handler: Handler, options: ConnectionOptions, info: ConnectionInfo | undefined) {
    this.stream = stream;
    this.handler = handler;
    this.settings = settingsOf(options);
    this.given = info;
  }

  /**
   * Calls `callback` once the connection is closed and every exchange is settled (at once if it
   * is). What the accept loop waits on (a Completion, server/concurrent.ts): no promise is made.
   */
  whenDone(callback: () => void): void {
    if (this.closed) { callback(); return; }
    const prev = this.onDone;
    this.onDone = prev === null ? callback : () => { prev(); callback(); };
  }

  /** The connection is closed (its exchanges settled or being settled). */
  get closed(): boolean {
    return this.wr === Write.Closed;
  }

  /** A promise of the same: resolves when the connection is closed and every exchange is settled. */
  get done(): Promise<void> {
    return new Promise((resolve) => this.whenDone(resolve));
  }

  /** The close is complete: tell whoever waits. */
  protected settled(): void {
    const done = this.onDone;
    this.onDone = null;
    const onClose = this.settings.onClose;
    if (onClose !== null) onClose(this);
    if (done !== null) done();
  }

  protected get parser(): RequestParser {
    return (this.parserRef ??= new RequestParser(this.settings.options));
  }

  /** No request is in progress and no unparsed byte is held. */
  protected get parserIdle(): boolean {
    const p = this.parserRef;
    return p === null || p.idle;
  }

  /** Lets the parser go when it holds nothing (between requests). */
  protected releaseParser(): void {
    const p = this.parserRef;
    if (p !== null && p.idle && p.head === null && this.receiving === null) this.parserRef = null;
  }

  // (one side calls the other through these)
  protected abstract closeAfterWrites(): void;
  protected abstract writeReady(): void;
  protected abstract updateReading(): void;
  protected abstract protocolError(err: Error): void;

  // ---- states -------------------------------------------------------------------------------

  protected setRead(to: Read): void {
    if (!move('read', READ_TRANSITIONS, this.rd, to)) this.broken();
    this.rd = to;
  }

  protected setWrite(to: Write): void {
    if (!move('write', WRITE_TRANSITIONS, this.wr, to)) this.broken();
    this.wr = to;
  }

  protected setExchange(req: IncomingRequest, to: Exchange): void {
    if (!move('exchange', EXCHANGE_TRANSITIONS, req._state, to)) this.broken();
    req._state = to;
  }

  protected setContinue(req: IncomingRequest, to: Continue): void {
    if (!move('continue', CONTINUE_TRANSITIONS, req._continue, to)) this.broken();
    req._continue = to;
  }

  /** An illegal transition outside strict mode: a bug in sluice. Report it and cut this connection only. */
  protected broken(): void {
    this.settings.onError(lastIllegal, null);
    this.stream.destroy();
  }

  /** No more requests will be parsed: input is unread (linger) unless the parser holds nothing. */
  protected stopReading(): void {
    if (this.rd === Read.Head) this.setRead(this.parserIdle ? Read.Done : Read.Discard);
    else if (this.rd === Read.Body) {
      this.receiving?._discard();
      this.receiving = null;
      this.setRead(Read.Discard);
    }
  }

  /**
   * The one place an exchange ends: its response was handed to the stream in full, or it never
   * will be (`aborted`). Releases what it holds (the response body's stream or file handle, a
   * body waiter, the abort signal) and reports it once.
   */
  protected release(req: IncomingRequest, status: number, bodyBytes: number, aborted: boolean): void {
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

  // ---- deadlines: one per connection, on the process-wide wheel ------------------------------

  /** Arms the one deadline that applies in the present state (or none). */
  protected updateDeadline(now: number): void {
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
    } else if (rd === Read.Body || (rd === Read.Head && !this.parserIdle)) {
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

// The listeners every connection shares: they find their connection on the stream, so there is
// no closure per connection (10,000 open connections would be 10,000 of each).
export const kConnection = Symbol('sluice.connection');
interface StreamEvents { onData(chunk: Buffer): void; onPeerEnd(): void; onClose(): void; onDrain(): void; onFinish(): void }
export type ConnectionStream = Duplex & { [kConnection]: StreamEvents };
export function onStreamData(this: ConnectionStream, chunk: Buffer): void { this[kConnection].onData(chunk); }
export function onStreamEnd(this: ConnectionStream): void { this[kConnection].onPeerEnd(); }
export function onStreamClose(this: ConnectionStream): void { this[kConnection].onClose(); }
export function onStreamDrain(this: ConnectionStream): void { this[kConnection].onDrain(); }
export function onStreamFinish(this: ConnectionStream): void { this[kConnection].onFinish(); }

export function destroyBody(body: ResponseBody): void {
  if (body !== null && typeof body === 'object' && typeof (body as { destroy?: () => void }).destroy === 'function') {
    (body as { destroy: () => void }).destroy();
  }
}
