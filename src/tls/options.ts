// What a TLS listener is configured with, and the defaults: TLS 1.2 and 1.3 only, Mozilla's
// "intermediate" cipher list, session tickets on, a bounded handshake.
import type { SecureVersion } from 'node:tls';

/** A certificate (PEM, the full chain: leaf first) and its private key (PEM). */
export type TlsPair =
  | { cert: string | Buffer; key: string | Buffer }
  /** Read from files, and read again on reload (a renewed certificate is picked up). */
  | { certFile: string; keyFile: string };

export interface TlsSettings {
  /**
   * One pair, or several for several names: each certificate is served to clients asking (by SNI)
   * for a name it carries (subjectAltName DNS/IP entries, else its CN; `*.example.com` wildcards
   * match one label). The first pair is the default for clients that send no (or an unknown) name.
   */
  pairs: TlsPair | TlsPair[];
  /** Lowest protocol version accepted. Default 'TLSv1.2'. */
  minVersion?: SecureVersion;
  /** Highest protocol version accepted. Default 'TLSv1.3'. */
  maxVersion?: SecureVersion;
  /** OpenSSL cipher list; TLS 1.3 suites are the `TLS_` entries. Default: Mozilla intermediate. */
  ciphers?: string;
  /** Session resumption by tickets. Default true. */
  sessionTickets?: boolean;
  /**
   * 48 bytes of ticket keys. Processes that share them resume each other's sessions (the CLI
   * hands one key to all its workers). Default: random, per process.
   */
  ticketKeys?: Buffer;
  /** A handshake not completed by then is dropped. Default 10000 ms. */
  handshakeTimeoutMs?: number;
}

/** ServeOptions.tls: one pair, a list of pairs (SNI), or everything spelled out. */
export type TlsOption = TlsPair | TlsPair[] | TlsSettings;

/**
 * Mozilla's "intermediate" configuration (ssl-config.mozilla.org, version 5.7): the TLS 1.3
 * suites, then ECDHE/DHE with AEAD ciphers only for TLS 1.2. (DHE needs `dhparam`, which we do not
 * set, so OpenSSL skips those two; they are kept so the list reads as the reference does.)
 */
export const INTERMEDIATE_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384',
].join(':');

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ResolvedTls {
  pairs: TlsPair[];
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  ciphers: string;
  sessionTickets: boolean;
  ticketKeys: Buffer | undefined;
  handshakeTimeoutMs: number;
}

function isSettings(o: TlsOption): o is TlsSettings {
  return !Array.isArray(o) && 'pairs' in o;
}

export function resolveTls(option: TlsOption): ResolvedTls {
  const s: TlsSettings = isSettings(option) ? option : { pairs: option };
  const pairs = Array.isArray(s.pairs) ? s.pairs : [s.pairs];
  if (pairs.length === 0) throw new TlsConfigError('tls: at least one certificate/key pair is needed');
  if (s.ticketKeys !== undefined && s.ticketKeys.length !== 48) throw new TlsConfigError('tls: ticketKeys must be 48 bytes');
  return {
    pairs,
    minVersion: s.minVersion ?? 'TLSv1.2',
    maxVersion: s.maxVersion ?? 'TLSv1.3',
    ciphers: s.ciphers ?? INTERMEDIATE_CIPHERS,
    sessionTickets: s.sessionTickets ?? true,
    ticketKeys: s.ticketKeys,
    handshakeTimeoutMs: s.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  };
}

/** A certificate, key or setting that cannot be used: the CLI prints the message and exits 2. */
export class TlsConfigError extends Error {
  override name = 'TlsConfigError';
}
