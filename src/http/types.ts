// The handler API: a request in, a response out (Hono's shape, without the cost of the
// web-standard Request/Response classes on the hot path).
import type { Readable } from 'node:stream';

/**
 * Request header fields, in the order received. Names are matched case-insensitively (ASCII
 * letters): `get('User-Agent')` and `get('user-agent')` are the same lookup; a lower-case name
 * is a little cheaper (no copy). Values are as received, without leading and trailing SP/HTAB.
 */
export interface Headers {
  /** The first value of a field, or undefined. `name` in any case. */
  get(name: string): string | undefined;
  /** Every value of a field (one entry per field line), in order. `name` in any case. */
  getAll(name: string): string[];
  /** Whether the field was sent (even with an empty value). `name` in any case. */
  has(name: string): boolean;
  /** Number of field lines. */
  readonly size: number;
  /** [name as received, value] for every field line, in order. */
  entries(): IterableIterator<[string, string]>;
}

export interface SluiceRequest {
  /** Method token as received, e.g. "GET" (case-sensitive, as RFC 9110 says). */
  readonly method: string;
  /** The request-target exactly as received. */
  readonly target: string;
  /** Path part of the target, still percent-encoded ("/a%20b"); "*" for asterisk-form (CONNECT and authority-form are refused with 501/400). */
  readonly path: string;
  /** Query string without the "?" ("" when there is none). */
  readonly query: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minorVersion: 0 | 1;
  readonly headers: Headers;
  /** Route parameters filled in by the Router (":id" segments); empty otherwise. */
  params: Record<string, string>;
  /** The client's address: the socket's peer (or the PROXY protocol's, or a trusted proxy's forwarded one). */
  readonly remoteAddress: string | undefined;
  /** 'https' when the request arrived over TLS (or a trusted proxy says it did). */
  readonly scheme: 'http' | 'https';
  /** The authority the request was sent to: the Host field, or a trusted proxy's forwarded host. */
  readonly host: string;
  /** Aborts when the client goes away before the response is completely written. */
  readonly signal: AbortSignal;
  /** Whether the request has a body (Content-Length > 0 or chunked). */
  readonly hasBody: boolean;
  /** The whole body, buffered (bounded by the server's maxBodySize: 413 beyond it). */
  body(): Promise<Buffer>;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
  /** The body as a stream of chunks, with backpressure: the connection stops reading while you don't. */
  stream(): Readable;
}

/** Response header values: a number or string, or a list for a repeated field (Set-Cookie). */
export type HeaderValue = string | number | readonly string[];
export type ResponseHeaders = Record<string, HeaderValue>;

/** A body: text (sent as UTF-8), bytes, or a stream/async iterable of bytes (written with backpressure). */
export type ResponseBody = string | Uint8Array | Readable | AsyncIterable<Uint8Array | string> | null | undefined;

export interface SluiceResponse {
  /** Default 200. */
  status?: number;
  /** Reason phrase; defaults to the standard one for the status. */
  reason?: string;
  /** Field names are written as given. `Content-Length`, `Date` and `Connection` are set by sluice when absent. */
  headers?: ResponseHeaders;
  body?: ResponseBody;
}

export type Handler = (req: SluiceRequest) => SluiceResponse | Promise<SluiceResponse>;
