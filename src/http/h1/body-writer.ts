// Streaming a response body with backpressure, the way pipe() does: the source is paused whenever
// the stream's buffer is full and resumed when the connection reports 'drain'. Event-driven
// rather than `for await`, which costs a promise round per chunk. Large byte bodies go through
// here too, in slices, so that a slow reader's progress is visible (each slice that leaves the
// buffer is progress for the send timeout) and one response does not sit in memory twice.
import { Readable, type Duplex } from 'node:stream';
import { Framing } from './framing.js';

/** Byte bodies above this are written in slices rather than in one piece. */
export const SLICED_BODY_MIN = 128 * 1024;
const SLICE = 64 * 1024;

const CRLF = Buffer.from('\r\n', 'latin1');

/** What the writer reports to its connection. */
export interface BodyWriterOwner {
  /** A write returned false: the stream's buffer is full until 'drain'. */
  writeBlocked(): void;
  /** The body is written (err null), failed, or was abandoned (`abort`); `sent` body bytes went out. */
  bodyDone(err: Error | null, sent: number): void;
}

export class BodyWriter {
  private readonly stream: Duplex;
  private readonly owner: BodyWriterOwner;
  private readonly chunked: boolean;
  /** The Content-Length promised, or -1. */
  private readonly length: number;
  private readonly source: Readable | null;
  private readonly bytes: Uint8Array | null;
  private offset = 0;
  private sent = 0;
  private settled = false;

  constructor(stream: Duplex, owner: BodyWriterOwner, body: Uint8Array | AsyncIterable<Uint8Array | string>, framing: Framing, length: number) {
    this.stream = stream;
    this.owner = owner;
    this.chunked = framing === Framing.Chunked;
    this.length = length;
    if (body instanceof Uint8Array) {
      this.bytes = body;
      this.source = null;
    } else {
      this.bytes = null;
      this.source = isReadable(body) ? body : Readable.from(body, { objectMode: false });
    }
  }

  start(): void {
    const source = this.source;
    if (source === null) return this.writeSlices();
    source.on('data', this.onData);
    source.once('end', this.onEnd);
    source.once('error', this.onError);
  }

  /** The stream drained: go on. */
  resume(): void {
    if (this.settled) return;
    if (this.source !== null) this.source.resume();
    else this.writeSlices();
  }

  /** The connection is gone: release the source without writing more. */
  abort(): void {
    this.settle(null);
  }

  private writeSlices(): void {
    const bytes = this.bytes!;
    while (this.offset < bytes.byteLength) {
      const piece = bytes.subarray(this.offset, this.offset + SLICE);
      this.offset += piece.byteLength;
      this.sent += piece.byteLength;
      if (!this.stream.write(piece)) {
        this.owner.writeBlocked();
        return;
      }
    }
    this.settle(null);
  }

  private readonly onData = (piece: Uint8Array | string): void => {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    const n = chunk.byteLength;
    if (n === 0) return;
    this.sent += n;
    if (this.length >= 0 && this.sent > this.length) {
      this.settle(new Error(`response body longer than its Content-Length (${this.length})`));
      return;
    }
    const stream = this.stream;
    let ok: boolean;
    if (this.chunked) {
      stream.cork();
      stream.write(`${n.toString(16)}\r\n`, 'latin1');
      stream.write(chunk);
      ok = stream.write(CRLF);
      stream.uncork();
    } else {
      ok = stream.write(chunk);
    }
    if (!ok) {
      this.source!.pause();
      this.owner.writeBlocked();
    }
  };

  private readonly onEnd = (): void => this.settle(null);
  private readonly onError = (err: Error): void => this.settle(err);

  private settle(err: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    const source = this.source;
    if (source !== null) {
      source.off('data', this.onData);
      source.off('end', this.onEnd);
      source.off('error', this.onError);
      source.destroy();
    }
    if (err === null && this.length >= 0 && this.sent < this.length && (source !== null || this.offset >= this.bytes!.byteLength)) {
      err = new Error(`response body shorter than its Content-Length (${this.sent} of ${this.length})`);
    }
    this.owner.bodyDone(err, this.sent);
  }
}

function isReadable(body: unknown): body is Readable {
  return body instanceof Readable || (typeof (body as Readable).on === 'function' && typeof (body as Readable).pause === 'function' && typeof (body as Readable).resume === 'function');
}
