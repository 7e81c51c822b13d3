// A request seen under another path (an internal rewrite): the rest — method, headers, body,
// connection details — is the original request's own.
import type { SluiceRequest } from '../http/types.js';

/** Requests made by withPath: their path is the server's own choice, not to be "corrected" by a redirect. */
const internal = new WeakSet<SluiceRequest>();

export function isInternal(req: SluiceRequest): boolean {
  return internal.has(req);
}

export function withPath(req: SluiceRequest, path: string, query = ''): SluiceRequest {
  const r: SluiceRequest = {
    method: req.method,
    target: query === '' ? path : `${path}?${query}`,
    path,
    query,
    minorVersion: req.minorVersion,
    headers: req.headers,
    params: req.params,
    remoteAddress: req.remoteAddress,
    get scheme() { return req.scheme; },
    get host() { return req.host; },
    get signal() { return req.signal; },
    hasBody: req.hasBody,
    body: () => req.body(),
    text: () => req.text(),
    stream: () => req.stream(),
  };
  internal.add(r);
  return r;
}
