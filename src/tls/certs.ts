// Certificates in, secure contexts out: each pair is read (from memory or files), checked by
// building its context (a bad PEM or a key that does not match the certificate fails here, not at
// the first handshake), and indexed by the names it carries, for SNI.
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { TlsConfigError, type ResolvedTls, type TlsPair } from './options.js';

export interface LoadedCert {
  /** Where it came from, for messages: the certificate file, or "certificate #n". */
  label: string;
  /** DNS names (lower case, wildcards as "*.example.com") and IP addresses it is valid for. */
  names: string[];
  /** Expiry, as the certificate states it. */
  validTo: string;
  cert: string | Buffer;
  key: string | Buffer;
  context: tls.SecureContext;
}

/** Every certificate, and which one answers a given server name. */
export class CertSet {
  readonly certs: LoadedCert[];
  private readonly byName = new Map<string, LoadedCert>();

  constructor(certs: LoadedCert[]) {
    this.certs = certs;
    // The first pair naming a host wins, as in the order given.
    for (const c of certs) for (const n of c.names) if (!this.byName.has(n)) this.byName.set(n, c);
  }

  get default(): LoadedCert {
    return this.certs[0];
  }

  /** The certificate for an SNI name: an exact name, else a wildcard for its parent, else the default. */
  lookup(servername: string): LoadedCert {
    const name = servername.toLowerCase();
    const exact = this.byName.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.byName.get('*' + name.slice(dot));
      if (wild !== undefined) return wild;
    }
    return this.default;
  }
}

/** Options of tls.createSecureContext shared by every certificate. */
export function contextOptions(cfg: ResolvedTls): tls.SecureContextOptions {
  return { minVersion: cfg.minVersion, maxVersion: cfg.maxVersion, ciphers: cfg.ciphers };
}

/** Reads and checks every pair. Throws TlsConfigError naming the culprit; nothing is half-loaded. */
export function loadCerts(cfg: ResolvedTls): CertSet {
  return new CertSet(cfg.pairs.map((pair, i) => loadPair(pair, i, cfg)));
}

function loadPair(pair: TlsPair, index: number, cfg: ResolvedTls): LoadedCert {
  let cert: string | Buffer, key: string | Buffer, label: string;
  if ('certFile' in pair) {
    label = pair.certFile;
    cert = readPem(pair.certFile, 'certificate');
    key = readPem(pair.keyFile, 'key');
  } else {
    label = `certificate #${index + 1}`;
    ({ cert, key } = pair);
  }
  let x509: crypto.X509Certificate;
  try {
    x509 = new crypto.X509Certificate(cert);
  } catch (err) {
    throw new TlsConfigError(`${label}: not a PEM certificate (${(err as Error).message})`);
  }
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ ...contextOptions(cfg), cert, key });
  } catch (err) {
    const e = err as Error & { code?: string };
    const why = /key values mismatch/.test(e.message) ? 'the key does not belong to this certificate' : e.message;
    throw new TlsConfigError(`${label}: cannot use this certificate and key: ${why}`);
  }
  return { label, names: certNames(x509), validTo: x509.validTo, cert, key, context };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TlsConfigError(`cannot read the ${what} file ${file}: ${e.code ?? e.message}`);
  }
}

/** subjectAltName DNS and IP entries; the subject's CN only when there are none (as browsers do). */
export function certNames(x509: crypto.X509Certificate): string[] {
  const names: string[] = [];
  for (const entry of (x509.subjectAltName ?? '').split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.+)$/.exec(entry.trim());
    if (m) names.push(m[1] === 'DNS' ? m[2].toLowerCase() : m[2]);
  }
  if (names.length === 0) {
    const cn = /^CN=(.+)$/m.exec(x509.subject);
    if (cn) names.push(cn[1].toLowerCase());
  }
  return names;
}
