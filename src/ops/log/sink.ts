// Where log lines go: a file (opened O_APPEND), stdout or stderr, written asynchronously by
// sonic-boom. Lines are gathered in memory and handed over once per event-loop turn, or sooner
// when a batch reaches the write size. Every write(2) carries whole lines only, so several worker
// processes appending to one file, or sharing one pipe, never tear or interleave each other's
// lines: Linux appends a whole write(2) to a regular file under the inode's lock (O_APPEND: at the
// end, in one piece), and writes to a pipe are atomic up to PIPE_BUF, so stdout and stderr batches
// stay within PIPE_BUF while file batches may be larger (fewer system calls).
// reopen() follows logrotate's convention (rename the file, then signal).
import sonicBoom, { type SonicBoom as Boom } from 'sonic-boom';

// The package is CommonJS and its types declare the class as a named export it does not have at run time.
const SonicBoom = sonicBoom as unknown as typeof Boom;

/** Linux's PIPE_BUF: writes up to this size to a pipe are atomic. */
export const PIPE_BUF = 4096;
/** Batch size for files. */
const FILE_WRITE = 16 * 1024;

export type Destination = string | 'stdout' | 'stderr';

export class LineSink {
  private readonly boom: Boom;
  private pending = '';
  private scheduled = false;
  private closed = false;
  /** Lines dropped because the destination failed (disk full, file removed and not writable...). */
  errors = 0;
  readonly destination: Destination;
  private readonly batch: number;

  constructor(destination: Destination) {
    this.destination = destination;
    const stdio = destination === 'stdout' || destination === 'stderr';
    const target = destination === 'stdout' ? { fd: 1 } : destination === 'stderr' ? { fd: 2 } : { dest: destination, append: true, mkdir: true };
    this.batch = stdio ? PIPE_BUF : FILE_WRITE;
    this.boom = new SonicBoom({ ...target, sync: false, minLength: 0, maxWrite: this.batch });
    this.boom.on('error', (err: NodeJS.ErrnoException) => {
      // Said once: a log that cannot be written must not take the server down, nor pass unnoticed.
      if (this.errors++ === 0 && destination !== 'stderr') {
        process.stderr.write(`sluice: cannot write the log ${destination}: ${err.code ?? err.message}; its lines are dropped\n`);
      }
    });
    // Whatever is still buffered when the process exits (process.exit after a drain) is written.
    process.once('exit', this.onExit);
  }

  private readonly onExit = (): void => this.flushSync();

  /** One or more whole lines, each ending in "\n", ASCII, shorter than PIPE_BUF. */
  write(lines: string): void {
    if (this.closed) return;
    if (this.pending.length + lines.length > this.batch) this.handOver();
    this.pending += lines;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.handOver);
    }
  }

  private readonly handOver = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    const chunk = this.pending;
    this.pending = '';
    // Each chunk ≤ the batch size; sonic-boom joins chunks only while they fit in maxWrite.
    try { this.boom.write(chunk); } catch { this.errors++; }
  };

  /** Opens the file again by its name (after logrotate renamed it). Lines in flight go to the old file, later ones to the new. */
  reopen(): void {
    if (this.closed || this.destination === 'stdout' || this.destination === 'stderr') return;
    this.handOver();
    try { this.boom.reopen(); } catch { this.errors++; }
  }

  /** Writes everything buffered, synchronously (process exit). */
  flushSync(): void {
    if (this.closed) return;
    this.handOver();
    try { this.boom.flushSync(); } catch { /* not open yet, or the destination is gone */ }
  }

  /** Flushes, then closes the file (stdout/stderr stay open). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.handOver();
    this.closed = true;
    process.off('exit', this.onExit);
    return new Promise((resolve) => {
      const done = () => resolve();
      this.boom.once('close', done);
      this.boom.once('error', done);
      if (this.destination === 'stdout' || this.destination === 'stderr') {
        this.boom.flush(() => resolve());
      } else {
        this.boom.end();
      }
    });
  }
}
