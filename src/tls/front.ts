// The TLS front of a server: a tls.Server that does the handshakes (SNI, ALPN, tickets, a
// handshake deadline) and hands finished sockets on; the Listener takes them from its
// 'secureConnection' event. Handshakes that fail are counted, never logged one by one: a port
// scanner or a client speaking plain HTTP must not flood the log.
import crypto from 'node:crypto';
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
      socket.destroy();
    });
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
