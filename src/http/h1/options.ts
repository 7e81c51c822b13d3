// What a connection can be configured with, and the defaults.
import type { ParserLimits } from '../parser.js';
import type { IncomingRequest } from '../request.js';
import type { ConnectionBase } from './base.js';

export interface ConnectionOptions extends Partial<ParserLimits> {
  /** Time allowed to receive a request's head, from its first byte (slowloris defence). 408 after. Default 10000. */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request, head and body. 408 after. Default 30000. */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed quietly after this (a new connection waits headersTimeoutMs for its first byte). Default 5000. */
  keepAliveTimeoutMs?: number;
  /**
   * The longest a write may wait without progress (nginx's send_timeout): a client that stops
   * reading our response, or never reads the last bytes before we close, is cut after this. Default 60000.
   */
  sendTimeoutMs?: number;
  /** Requests parsed ahead of their responses (pipelining depth) before reading pauses. Default 64. */
  maxPipelined?: number;
  /**
   * Reports handler errors (answered 500), including responses whose head cannot be written
   * (a header value with a line break or a character above U+00FF: also answered 500). Default: console.error.
   */
  onError?: (err: unknown, req: IncomingRequest | null) => void;
  /**
   * Called once per exchange, when its response has been handed to the stream in full, or when
   * the connection closed before that (`aborted`). For access logs and metrics: keep it cheap.
   * Protocol errors answered before any head was parsed are reported too, with an empty method.
   */
  onResponse?: (req: IncomingRequest, record: ResponseRecord) => void;
  /**
   * @internal Called once per connection when it has closed, before whenDone's callbacks: how a
   * server keeps its set of open connections without a closure per connection.
   */
  onClose?: (connection: ConnectionBase) => void;
}

/** What became of one exchange, for onResponse. */
export interface ResponseRecord {
  /** The status sent (or that would have been sent: 0 when the handler had not answered yet). */
  status: number;
  /** Body bytes handed to the stream (excluding the head and chunked framing). */
  bodyBytes: number;
  /** The connection closed before the response was completely written. */
  aborted: boolean;
}

export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_SEND_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_PIPELINED = 64;

/** After our last response, unread request bytes are drained this long before the socket is destroyed (avoids RST eating the response). */
export const LINGER_MS = 2000;
/** How long an idle connection stays open after drain() for a request already on its way. */
export const DRAIN_GRACE_MS = 250;

/** The options every connection of a server shares, resolved once (not copied into each connection). */
export interface Settings {
  /** The options themselves (the parser reads its limits from them). */
  options: ConnectionOptions;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  sendTimeoutMs: number;
  maxPipelined: number;
  onError: (err: unknown, req: IncomingRequest | null) => void;
  onResponse: ((req: IncomingRequest, record: ResponseRecord) => void) | null;
  onClose: ((connection: ConnectionBase) => void) | null;
}

const resolved = new WeakMap<ConnectionOptions, Settings>();

export function settingsOf(options: ConnectionOptions): Settings {
  let s = resolved.get(options);
  if (s === undefined) {
    s = {
      options,
      headersTimeoutMs: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      sendTimeoutMs: options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
      maxPipelined: options.maxPipelined ?? DEFAULT_MAX_PIPELINED,
      onError: options.onError ?? defaultOnError,
      onResponse: options.onResponse ?? null,
      onClose: options.onClose ?? null,
    };
    resolved.set(options, s);
  }
  return s;
}

function defaultOnError(err: unknown): void {
  console.error('sluice: handler error:', err);
}
