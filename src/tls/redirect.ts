// The handler of --redirect-http: every request on the plain-HTTP port gets 308 to the same
// host, path and query on the HTTPS port. 308 (not 301) keeps the method and body of a POST.
import type { Handler, SluiceResponse } from '../http/types.js';

const TEXT = 'text/plain; charset=utf-8';

/** The host part of a Host field, without its port: "example.com:80" → "example.com", "[::1]:80" → "[::1]". */
export function hostWithoutPort(host: string): string | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::\d*)?$/.exec(host);
  return m ? m[1] : null;
}

export function redirectToHttps(httpsPort: number): Handler {
  const portPart = httpsPort === 443 ? '' : `:${httpsPort}`;
  return (req): SluiceResponse => {
    const host = hostWithoutPort(req.host);
    if (host === null) {
      return { status: 400, headers: { 'Content-Type': TEXT }, body: 'Bad Request: a valid Host field is needed to redirect to HTTPS\n' };
    }
    // Origin-form targets only: an absolute-form target would name a host of its own.
    const path = req.path.startsWith('/') ? req.path : '/';
    const location = `https://${host}${portPart}${path}${req.query !== '' ? '?' + req.query : ''}`;
    return { status: 308, headers: { Location: location, 'Content-Type': TEXT }, body: `Permanent Redirect: ${location}\n` };
  };
}
