// Fetch handlers on sluice: fromFetch() turns `(request, info) => Response` (or an object with
// such a `fetch` method: a Hono app, `export default { fetch }`) into a sluice Handler.
import type { Handler, SluiceRequest, SluiceResponse } from '../http/types.js';
import { installGlobals } from './globals.js';
import { FetchRequest, requestUrl } from './request.js';
import { toSluiceResponse, WebBody } from './response.js';

/** The second argument of a fetch handler: what the web classes cannot carry. */
export interface FetchInfo {
  /** The client's address (the socket's peer, or what a trusted proxy / PROXY protocol said). */
  readonly remoteAddress: string | undefined;
  /** The client's port, as the socket sees it (undefined when unknown). */
  readonly remotePort: number | undefined;
  /** 'https' when the request came over TLS (or a trusted proxy says so). */
  readonly scheme: 'http' | 'https';
  /** Deno's shape of the address, for code written for `Deno.serve`. */
  readonly remoteAddr: { transport: 'tcp'; hostname: string; port: number };
  /** The sluice request underneath (its raw target, body stream, trailers...). */
  readonly sluice: SluiceRequest;
}

export type FetchHandler = (request: Request, info: FetchInfo) => Response | Promise<Response>;

/** An object with a `fetch` method: a Hono app, `export default { fetch }` (Deno, Bun, srvx). */
export interface FetchApp {
  fetch(request: Request, info: FetchInfo, ...rest: never[]): Response | Promise<Response>;
}

export interface FromFetchOptions {
  /**
   * Install the lightweight Response as globalThis.Response (and let Request/fetch take the lazy
   * request). Default true: a Response built by the platform class costs far more than the rest
   * of the exchange. With false everything still works, more slowly.
   */
  globals?: boolean;
}

/** Whether `app` is served as a fetch app: an object (or function) with a `fetch` method. */
export function isFetchApp(app: unknown): app is FetchApp {
  return (typeof app === 'object' || typeof app === 'function') && app !== null && typeof (app as FetchApp).fetch === 'function';
}

class Info implements FetchInfo {
  readonly sluice: SluiceRequest;
  constructor(req: SluiceRequest) { this.sluice = req; }
  get remoteAddress(): string | undefined { return this.sluice.remoteAddress; }
  get remotePort(): number | undefined {
    // The connection's own port; there is no forwarded port (a proxy's would be its own).
    return (this.sluice as unknown as { source?: { info?: { remotePort?: number } } }).source?.info?.remotePort;
  }
  get scheme(): 'http' | 'https' { return this.sluice.scheme; }
  get remoteAddr(): { transport: 'tcp'; hostname: string; port: number } {
    return { transport: 'tcp', hostname: this.remoteAddress ?? '', port: this.remotePort ?? 0 };
  }
}

/**
 * A sluice Handler that runs a fetch handler. The handler gets a lazily built Request (see
 * request.ts) and a FetchInfo; its Response is written back as is (see response.ts). A thrown
 * error or rejected promise is a 500 (logged by the server's onError), and so is a return value
 * that is not a Response, with a log line saying what it was.
 */
export function fromFetch(app: FetchHandler | FetchApp, options: FromFetchOptions = {}): Handler {
  if (options.globals !== false) installGlobals();
  const fetch: FetchHandler = isFetchApp(app) ? app.fetch.bind(app) : app;
  if (typeof fetch !== 'function') throw new TypeError('fromFetch: expected a fetch handler function or an object with a fetch method');
  return (req: SluiceRequest): SluiceResponse | Promise<SluiceResponse> => {
    // The URL is checked before the app runs: a request it cannot describe is a 400, not the app's problem.
    const request = new FetchRequest(req, requestUrl(req));
    const res = fetch(request as unknown as Request, new Info(req));
    if (res !== null && typeof res === 'object' && typeof (res as Promise<Response>).then === 'function') {
      return (res as Promise<Response>).then((r) => answer(r, request));
    }
    return answer(res, request);
  };
}

function answer(res: unknown, request: FetchRequest): SluiceResponse {
  const out = toSluiceResponse(res, request._req);
  // A body stream the app took but left unread (nobody holds a reader) would stall the connection: drop it.
  const body = request._stream;
  if (body !== null && !body.locked && !(out.body instanceof WebBody && out.body.stream === body)) body.cancel().catch(() => {});
  return out;
}
