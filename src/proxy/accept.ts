// The accept path's proxy step: what the server does with a socket before the HTTP connection
// exists. With the PROXY protocol on, the preamble is read off the socket first (bounded by the
// headers timeout; a missing or malformed one closes the socket with no response), the bytes that
// followed it are put back (unshift) for the connection to read, and the address it carried
// becomes the connection's client address. With trusted proxies, a connection whose client is one
// of them gets the forwarded view (Forwarded / X-Forwarded-*), read lazily per request.
//
// Trust is decided on the connection's client address, i.e. after the PROXY protocol: behind an
// L4 balancer that sends PROXY, the forwarding fields are believed only if the client the balancer
// saw is itself trusted (a CDN or an L7 proxy in front of it).
import type { Socket } from 'node:net';
import { streamInfo } from '../http/connection.js';
import type { ConnectionInfo, IncomingRequest } from '../http/request.js';
import { forwardedView, type ForwardedHeader } from './forwarded.js';
import { parseProxyHeader, type ProxyHeader } from './protocol.js';
import { compileTrust, type TrustPredicate } from './trust.js';

export interface ProxyOptions {
  /** Every connection starts with a PROXY protocol preamble, v1 or v2. Default false. */
  proxyProtocol?: boolean;
  /**
   * Peers whose forwarding fields are believed: "127.0.0.1,10.0.0.0/8,::1" (also the keywords
   * loopback, linklocal, uniquelocal/private), a list of such entries, or a predicate.
   */
  trustProxy?: string | readonly string[] | TrustPredicate;
  /** Which fields trusted proxies write: 'x-forwarded' (X-Forwarded-For/-Proto/-Host, the default) or 'forwarded' (RFC 7239). */
  forwardedHeader?: ForwardedHeader;
  /** Bounds the wait for the preamble too. Default 10000 ms. */
  headersTimeoutMs?: number;
}

export interface ProxySetup {
  /** The connection's info, or null when the socket was closed (bad or missing preamble). Never rejects. */
  prepare(socket: Socket): Promise<ConnectionInfo | null>;
  /** Closes the sockets still waiting for their preamble (the server's shutdown deadline). */
  destroyWaiting(): void;
}

/** Null when neither option is on: the server then builds connections exactly as without this module. */
export function proxySetup(options: ProxyOptions): ProxySetup | null {
  const { proxyProtocol = false, trustProxy } = options;
  if (!proxyProtocol && trustProxy === undefined) return null;
  const trusted: TrustPredicate | null = trustProxy === undefined ? null
    : typeof trustProxy === 'function' ? trustProxy : compileTrust(trustProxy);
  const header = options.forwardedHeader ?? 'x-forwarded';
  // One closure for the server, not one per connection.
  const view = trusted === null ? null : (req: IncomingRequest) => forwardedView(req.headers, trusted, header);
  const timeoutMs = options.headersTimeoutMs ?? 10_000;
  const waiting = new Set<Socket>();

  const infoFor = (socket: Socket, preamble: ProxyHeader | null): ConnectionInfo => {
    const info = streamInfo(socket);
    if (preamble !== null && preamble.command === 'proxy' && preamble.source !== null) {
      info.remoteAddress = preamble.source.address;
      info.remotePort = preamble.source.port;
    }
    if (preamble?.tls) info.scheme = 'https';
    if (view !== null && trusted!(info.remoteAddress)) info.forwarded = view;
    return info;
  };

  return {
    async prepare(socket) {
      if (!proxyProtocol) return infoFor(socket, null);
      waiting.add(socket);
      try {
        const preamble = await readPreamble(socket, timeoutMs);
        return preamble === null ? null : infoFor(socket, preamble);
      } finally {
        waiting.delete(socket);
      }
    },
    destroyWaiting() {
      for (const s of waiting) s.destroy();
    },
  };
}

/**
 * Reads a PROXY preamble from a socket accepted paused. Resolves with the header once it is
 * complete (the socket paused again, later bytes unshifted back), or null after destroying the
 * socket: malformed, missing, too slow, or the peer went away first.
 */
export function readPreamble(socket: Socket, timeoutMs: number): Promise<ProxyHeader | null> {
  return new Promise((resolve) => {
    let buf: Buffer | null = null;
    const finish = (header: ProxyHeader | null) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', fail);
      socket.off('close', fail);
      socket.off('error', fail);
      if (header === null) socket.destroy();
      resolve(header);
    };
    const fail = () => finish(null);
    const onData = (chunk: Buffer) => {
      buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf);
      if (r.kind === 'need-more') return;
      socket.pause();
      if (r.kind === 'error') return fail();
      if (r.consumed < buf.length) socket.unshift(buf.subarray(r.consumed));
      finish(r.header);
    };
    const timer = setTimeout(fail, timeoutMs);
    socket.on('data', onData);
    socket.on('end', fail);
    socket.on('close', fail);
    socket.on('error', fail);
    socket.resume();
  });
}
