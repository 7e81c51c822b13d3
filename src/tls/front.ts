// The TLS front of a server: a tls.Server that does the handshakes (SNI, ALPN, tickets, a
// handshake deadline) and hands finished sockets on; the Listener takes them from its
// 'secureConnection' event. Handshakes that fail are counted, never logged one by one: a port
// scanner or a client speaking plain HTTP must not flood the log.
import crypto from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import { CertSet, contextOptions, loadCerts } from './certs.js';
import { resolveTls, type ResolvedTls, type TlsOption } from './options.js';

/** Handshakes that did not finish, by kind. */
export interface TlsClientErrors {
  /** Not completed within the handshake timeout. */
  timeouts: number;
  /** The client sent plain HTTP to the TLS port. */
  plainHttp: number;
  /** Anything else: no shared cipher or protocol, a bad record, a reset mid-handshake. */
  failed: number;
}

export class TlsFront {
  readonly server: tls.Server;
  readonly errors: TlsClientErrors = { timeouts: 0, plainHttp: 0, failed: 0 };
  private cfg: ResolvedTls;
  private certs: CertSet;
  private readonly ticketKeys: Buffer;
  /** Raw sockets handed to handshake() and not finished yet, by TCP peer (see handshake()). */
  private readonly pending = new Map<string, { raw: net.Socket; done: (socket: tls.TLSSocket | null) => void }>();

  /** Throws TlsConfigError when a certificate or key cannot be used. */
  constructor(option: TlsOption, alpn: readonly string[]) {
    this.cfg = resolveTls(option);
    this.certs = loadCerts(this.cfg);
    this.ticketKeys = this.cfg.ticketKeys ?? crypto.randomBytes(48);
    this.shareTicketKeys(this.certs);
    const first = this.certs.default;
    this.server = tls.createServer({
      ...contextOptions(this.cfg),
      cert: first.cert,
      key: first.key,
      ALPNProtocols: [...alpn],
      SNICallback: (servername, cb) => cb(null, this.certs.lookup(servername).context),
      handshakeTimeout: this.cfg.handshakeTimeoutMs,
      ticketKeys: this.ticketKeys,
      secureOptions: this.cfg.sessionTickets ? 0 : crypto.constants.SSL_OP_NO_TICKET,
      allowHalfOpen: true,
      noDelay: true,
    });
    // Node reports a handshake timeout here but leaves the socket open: close it ourselves.
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      this.count(err);
      if (this.pending.size > 0 && socket.remotePort !== undefined) this.settle(socket, null);
      socket.destroy();
    });
  }

  /**
   * Runs the handshake on a raw socket the caller accepted itself (after reading a PROXY
   * preamble off it): resolves with the TLS socket once secure, or null when the handshake
   * failed or timed out (the socket is then gone). The TLS server's 'connection' event is
   * documented as the way to inject a stream; its 'secureConnection' gives a new TLSSocket, found
   * again here by its TCP peer (address and port), which it shares with the raw socket and which
   * is unique among live connections to one listening socket.
   */
  handshake(raw: net.Socket): Promise<tls.TLSSocket | null> {
    if (this.pending.size === 0 && this.server.listenerCount('secureConnection') === 0) {
      this.server.on('secureConnection', (s: tls.TLSSocket) => this.settle(s, s));
    }
    const key = peerKey(raw);
    return new Promise((resolve) => {
      // The tls.Server's own handshake timeout closes a slow client; this timer only makes sure
      // the entry goes even when the failure could not be matched to it.
      const timer = setTimeout(() => done(null), this.cfg.handshakeTimeoutMs + 1000);
      timer.unref();
      const done = (s: tls.TLSSocket | null) => {
        clearTimeout(timer);
        if (this.pending.get(key)?.done === done) this.pending.delete(key);
        resolve(s);
      };
      this.pending.set(key, { raw, done });
      this.server.emit('connection', raw);
    });
  }

  private settle(s: tls.TLSSocket, result: tls.TLSSocket | null): void {
    if (this.pending.size === 0) return;
    const entry = this.pending.get(peerKey(s));
    if (entry !== undefined) entry.done(result);
    else if (result !== null) s.destroy(); // timed out on our side already
  }

  /** Cuts the handshakes handshake() is still waiting for (the server's shutdown deadline). */
  destroyPending(): void {
    for (const { raw, done } of [...this.pending.values()]) { raw.destroy(); done(null); }
  }

  /** The names of every certificate served, for the start-up line. */
  get names(): string[] {
    return [...new Set(this.certs.certs.flatMap((c) => c.names))];
  }

  get loaded(): readonly { label: string; names: string[]; validTo: string }[] {
    return this.certs.certs;
  }

  /**
   * Reads the certificates again (files are re-read), or takes new ones, and serves them to new
   * connections; open connections keep theirs. Everything is checked first: on any error this
   * throws and the old certificates stay.
   */
  reload(option?: TlsOption): void {
    const cfg = option === undefined ? this.cfg : { ...resolveTls(option), ticketKeys: this.ticketKeys };
    const certs = loadCerts(cfg);
    this.shareTicketKeys(certs);
    const first = certs.default;
    this.server.setSecureContext({ ...contextOptions(cfg), cert: first.cert, key: first.key });
    this.server.setTicketKeys(this.ticketKeys);
    this.cfg = cfg;
    this.certs = certs;
  }

  /** Every context encrypts tickets with the same keys, so a session resumes whichever name it used. */
  private shareTicketKeys(certs: CertSet): void {
    for (const c of certs.certs) {
      (c.context as unknown as { context: { setTicketKeys(keys: Buffer): void } }).context.setTicketKeys(this.ticketKeys);
    }
  }

  private count(err: NodeJS.ErrnoException): void {
    if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') this.errors.timeouts++;
    else if (err.code === 'ERR_SSL_HTTP_REQUEST' || /http request|wrong version number/i.test(err.message)) this.errors.plainHttp++;
    else this.errors.failed++;
  }
}

function peerKey(s: net.Socket): string {
  return `${s.remoteAddress}|${s.remotePort}`;
}
