// An in-memory duplex stream standing in for a socket: the async book's fake TcpStream.
import { Duplex } from 'node:stream';

export interface MemoryStream {
  /** The server's end: hand it to handleConnection. */
  stream: Duplex;
  /** Bytes "from the client". */
  send(data: string | Buffer): void;
  /** The client half-closes (FIN). */
  end(): void;
  /** Everything the server wrote so far, as Latin-1. */
  output(): string;
  /** Whether the server ended its side. */
  readonly serverEnded: boolean;
  /** Resolves when `predicate(output)` holds; rejects after `ms`. */
  waitFor(predicate: (out: string) => boolean, ms?: number): Promise<string>;
  /** Resolves when the server ended its side or destroyed the stream (then ends the client side too). */
  closed(ms?: number): Promise<string>;
}

/**
 * `writeDelayMs`: each write completes after this long. `stallWrites`: writes never complete (a
 * client that stops reading: the stream's buffer fills and 'drain' never comes).
 */
export function memoryStream(opts: { writeDelayMs?: number; stallWrites?: boolean } = {}): MemoryStream {
  const chunks: Buffer[] = [];
  let ended = false;
  let clientEnded = false;
  const listeners = new Set<() => void>();
  const notify = () => { for (const l of listeners) l(); };
  const stream = new Duplex({
    allowHalfOpen: true,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      notify();
      if (opts.stallWrites) return; // (cb never called)
      if (opts.writeDelayMs) setTimeout(cb, opts.writeDelayMs);
      else cb();
    },
    final(cb) {
      ended = true;
      notify();
      cb();
    },
  });
  stream.on('close', () => { ended = true; notify(); });
  const output = () => Buffer.concat(chunks).toString('latin1');
  const waitFor = (predicate: (out: string) => boolean, ms = 3000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const out = output();
        if (predicate(out)) { listeners.delete(check); clearTimeout(t); resolve(out); }
      };
      const t = setTimeout(() => { listeners.delete(check); reject(new Error(`timed out; output so far: ${JSON.stringify(output())}`)); }, ms);
      listeners.add(check);
      check();
    });
  return {
    stream,
    send: (data) => { stream.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data); },
    end: () => { if (!clientEnded) { clientEnded = true; stream.push(null); } },
    output,
    get serverEnded() { return ended; },
    waitFor,
    // Like a real client, answer the server's FIN with ours.
    closed: (ms = 3000) => waitFor(() => ended, ms).then((out) => { if (!clientEnded) { clientEnded = true; stream.push(null); } return out; }),
  };
}

/** Splits a byte string of HTTP responses into [status line, headers (lower-cased names), body] triples, using Content-Length or chunked framing. */
export function splitResponses(raw: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out: { status: number; headers: Record<string, string>; body: string }[] = [];
  let i = 0;
  while (i < raw.length) {
    const end = raw.indexOf('\r\n\r\n', i);
    if (end === -1) throw new Error(`incomplete head at ${i}: ${JSON.stringify(raw.slice(i))}`);
    const lines = raw.slice(i, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
    }
    i = end + 4;
    let body = '';
    if (status === 100) { out.push({ status, headers, body }); continue; }
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const le = raw.indexOf('\r\n', i);
        if (le === -1) throw new Error('incomplete chunked body');
        const size = parseInt(raw.slice(i, le), 16);
        if (Number.isNaN(size) || le + 2 + size > raw.length) throw new Error('incomplete chunked body');
        i = le + 2;
        if (size === 0) { i = raw.indexOf('\r\n', i) + 2; break; }
        body += raw.slice(i, i + size);
        i += size + 2;
      }
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (i + n > raw.length) throw new Error('incomplete body');
      body = raw.slice(i, i + n);
      i += n;
    } else {
      body = raw.slice(i);
      i = raw.length;
    }
    out.push({ status, headers, body });
  }
  return out;
}
