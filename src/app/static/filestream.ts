// A Readable over a byte range of a file that opens the file only when first read, and closes it
// when it ends or is destroyed. Opening lazily means a response that is never written (queued
// behind a pipelined response on a connection that then goes away, or a HEAD) never holds a
// file descriptor, and a stalled connection holds at most the one it is streaming.
import { Readable } from 'node:stream';
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Read-only and non-blocking: if a regular file is swapped for a FIFO between our stat and the
 * open, the open must not block a thread-pool thread forever (no effect on regular files).
 */
export const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

export interface FileIdentity {
  dev: number;
  ino: number;
}

export class FileRangeStream extends Readable {
  private fh: FileHandle | null = null;
  private pos: number;
  /** Inclusive. */
  private readonly end: number;

  /**
   * Streams bytes [start, end] of `path`, which must still be the file `identity` (same device
   * and inode: a file replaced since the response head was made errors the stream, which makes
   * the engine cut the connection rather than send a body that does not match the head).
   */
  constructor(private readonly path: string, private readonly identity: FileIdentity, start: number, end: number, highWaterMark: number) {
    super({ highWaterMark });
    this.pos = start;
    this.end = end;
  }

  override async _read(size: number): Promise<void> {
    try {
      let fh = this.fh;
      if (fh === null) {
        fh = await fsp.open(this.path, OPEN_FLAGS);
        if (this.destroyed) {
          await fh.close();
          return;
        }
        this.fh = fh;
        const st = await fh.stat();
        if (this.destroyed) return;
        if (st.ino !== this.identity.ino || st.dev !== this.identity.dev) throw new Error(`${this.path} was replaced while being served`);
      }
      const want = Math.min(size, this.end - this.pos + 1);
      if (want <= 0) {
        this.push(null);
        return;
      }
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, this.pos);
      if (this.destroyed) return;
      if (bytesRead === 0) throw new Error(`${this.path} shrank while being served`);
      this.pos += bytesRead;
      this.push(bytesRead < want ? buf.subarray(0, bytesRead) : buf);
      if (this.pos > this.end) this.push(null);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = null;
    if (fh === null) {
      cb(err);
      return;
    }
    fh.close().then(() => cb(err), () => cb(err));
  }
}
