// Output buffering: the bytes of every response that is ready, gathered so that one write (one
// system call) carries them all.
import type { Duplex } from 'node:stream';

/**
 * Node's Buffer has `latin1Write(string, offset)` and `utf8Write(string, offset)`: undocumented,
 * present since v0.x, and cheaper than `buf.write(s, off, encoding)` (no encoding dispatch). They
 * are detected once; without them the documented `buf.write` does the same job, a little slower.
 * (test/output.test.ts fails loudly if a Node release drops them, so the fallback is noticed.)
 */
type StringWriter = (buf: Buffer, s: string, off: number) => number;

interface FastBuffer { latin1Write?: (s: string, off: number) => number; utf8Write?: (s: string, off: number) => number }

const proto = Buffer.prototype as unknown as FastBuffer;

export const HAS_FAST_WRITES = typeof proto.latin1Write === 'function' && typeof proto.utf8Write === 'function' &&
  probeWrites();

function probeWrites(): boolean {
  try {
    const b = Buffer.alloc(4) as unknown as Required<FastBuffer>;
    return b.latin1Write('\u00e9a', 0) === 2 && b.utf8Write('\u00e9', 2) === 2 && (b as unknown as Buffer).equals(Buffer.from([0xe9, 0x61, 0xc3, 0xa9]));
  } catch {
    return false;
  }
}

export const writeLatin1Fallback: StringWriter = (buf, s, off) => buf.write(s, off, 'latin1');
export const writeUtf8Fallback: StringWriter = (buf, s, off) => buf.write(s, off, 'utf8');

export const writeLatin1: StringWriter = HAS_FAST_WRITES
  ? (buf, s, off) => (buf as unknown as Required<FastBuffer>).latin1Write(s, off)
  : writeLatin1Fallback;
export const writeUtf8: StringWriter = HAS_FAST_WRITES
  ? (buf, s, off) => (buf as unknown as Required<FastBuffer>).utf8Write(s, off)
  : writeUtf8Fallback;

/** Batches up to this size are copied into one buffer; Buffer.allocUnsafe serves up to 4 KiB from its pool. */
const POOLED_COPY_MAX = Buffer.poolSize >>> 1;

/**
 * Bytes waiting to be written. Strings are heads (Latin-1, already checked to be so) or UTF-8
 * text bodies (with their byte length given). The connection creates its Output on first use;
 * emptied after each flush.
 */
export class Output {
  private readonly parts: (string | Uint8Array)[] = [];
  /** Per part: true for a UTF-8 string. Null until a UTF-8 part is added. */
  private utf8: boolean[] | null = null;
  private size = 0;

  get empty(): boolean {
    return this.parts.length === 0;
  }

  /** `s` must be Latin-1 (a head) unless `utf8Length` is given. */
  text(s: string, utf8Length = -1): void {
    if (utf8Length !== -1) {
      if (this.utf8 === null) this.utf8 = new Array<boolean>(this.parts.length).fill(false);
      this.utf8[this.parts.length] = true;
      this.size += utf8Length;
    } else {
      if (this.utf8 !== null) this.utf8[this.parts.length] = false;
      this.size += s.length;
    }
    this.parts.push(s);
  }

  bytes(b: Uint8Array): void {
    if (b.byteLength === 0) return;
    if (this.utf8 !== null) this.utf8[this.parts.length] = false;
    this.parts.push(b);
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
        const p = parts[i]!;
        ok = typeof p === 'string' ? stream.write(p, utf8 !== null && utf8[i] ? 'utf8' : 'latin1') : stream.write(p);
      }
      stream.uncork();
    } else {
      const buf = Buffer.allocUnsafe(this.size);
      let off = 0;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (typeof p === 'string') off += utf8 !== null && utf8[i] ? writeUtf8(buf, p, off) : writeLatin1(buf, p, off);
        else { buf.set(p, off); off += p.byteLength; }
      }
      ok = stream.write(buf);
    }
    parts.length = 0;
    this.utf8 = null;
    this.size = 0;
    return ok;
  }
}
