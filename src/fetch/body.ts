// Request bodies for fetch handlers: sluice's streamed body as a web ReadableStream (pulled, so
// the connection reads only as fast as the app does), and form parsing.
import type { Readable } from 'node:stream';

export const NativeReadableStream: typeof ReadableStream = globalThis.ReadableStream;
const NativeResponseClass: typeof Response = globalThis.Response;

/**
 * A ReadableStream that reads `source` one chunk per pull. highWaterMark 0: nothing is read
 * ahead of the consumer, so the connection's own flow control (it stops reading the socket while
 * the body is not consumed) reaches the client.
 */
export function toWebStream(source: Readable): ReadableStream<Uint8Array> {
  let wake: (() => void) | null = null;
  let ended = false;
  let failure: Error | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    if (w !== null) w();
  };
  source.on('readable', notify);
  source.once('end', () => { ended = true; notify(); });
  source.once('error', (err) => { failure = err; notify(); });
  source.once('close', () => { if (!ended && failure === null) failure = new Error('The request body was cut off'); notify(); });
  return new NativeReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (failure !== null) { controller.error(failure); return; }
        const chunk = source.read() as Buffer | null;
        if (chunk !== null) { controller.enqueue(chunk); return; }
        if (ended) { controller.close(); return; }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    cancel() {
      // Nobody wants the rest: read and drop it, so that the connection can go on to the next request.
      source.off('readable', notify);
      source.on('data', () => {});
      source.resume();
    },
  }, { highWaterMark: 0 });
}

/** A fresh ArrayBuffer holding `buf` (a Buffer may be a view into a shared pool). */
export function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** multipart/form-data or application/x-www-form-urlencoded, parsed by the platform's own parser. */
export function parseFormData(body: Buffer, contentType: string | null): Promise<FormData> {
  if (contentType === null) return Promise.reject(new TypeError('Content-Type is missing: cannot parse the body as form data'));
  return new NativeResponseClass(body as unknown as BodyInit, { headers: { 'content-type': contentType } }).formData();
}
