// The command line's side of TLS: turning the flags into ServeOptions.tls, handing what must be
// the same in every worker (the self-signed certificate, the session ticket keys) from the
// primary to its workers, describing the set-up in the start-up line, reloading on SIGHUP.
import crypto from 'node:crypto';
import type { CliTls } from '../cli/args.js';
import type { Server } from '../server/server.js';
import { loadCerts } from './certs.js';
import { resolveTls, type TlsSettings } from './options.js';
import { SELF_SIGNED_NAMES, selfSignedPair } from './selfsigned.js';

// Workers are forked with the primary's environment, so these carry the shared material. (A
// worker is a process of the same user; the environment is no more exposed than the key files.)
const ENV_SELF_SIGNED = 'SLUICE_TLS_SELF_SIGNED';
const ENV_TICKET_KEYS = 'SLUICE_TLS_TICKET_KEYS';

/**
 * ServeOptions.tls for these flags. In a worker the self-signed certificate and ticket keys come
 * from the primary (see shareWithWorkers); in a single process they are made here.
 */
export async function tlsOption(cli: CliTls, env: NodeJS.ProcessEnv = process.env): Promise<TlsSettings> {
  const ticketHex = env[ENV_TICKET_KEYS];
  const ticketKeys = ticketHex !== undefined && /^[0-9a-f]{96}$/.test(ticketHex) ? Buffer.from(ticketHex, 'hex') : undefined;
  if (!cli.selfSigned) return { ...cli.settings, pairs: cli.files, ticketKeys };
  const shared = env[ENV_SELF_SIGNED];
  const pair = shared !== undefined ? JSON.parse(shared) as { cert: string; key: string } : await selfSignedPair();
  return { ...cli.settings, pairs: pair, ticketKeys };
}

/**
 * In the primary of --workers: checks the certificates once (a clear message, not one per
 * worker; throws TlsConfigError) and puts the shared material in the environment the workers
 * inherit. Every worker then serves the same self-signed certificate, and a session resumes on
 * any worker, across rolling restarts too.
 */
export async function shareWithWorkers(cli: CliTls, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (cli.selfSigned && env[ENV_SELF_SIGNED] === undefined) env[ENV_SELF_SIGNED] = JSON.stringify(await selfSignedPair());
  env[ENV_TICKET_KEYS] ??= crypto.randomBytes(48).toString('hex');
  return [...new Set(loadCerts(resolveTls(await tlsOption(cli, env))).certs.flatMap((c) => c.names))];
}

/** "(HTTP/2 and HTTP/1.1, certificate for example.com, www.example.com)" and the like. */
export function describeTls(cli: CliTls, names: string[], http2: boolean): string {
  const protocols = http2 ? 'HTTP/2 and HTTP/1.1' : 'HTTP/1.1';
  const which = cli.selfSigned ? `self-signed certificate for ${SELF_SIGNED_NAMES.join(', ')}, made at start-up` : `certificates for ${names.join(', ')}`;
  return `${protocols}, ${which}`;
}

/** SIGHUP in a single process: the certificate files are read again and served to new connections. */
export function reloadOnSighup(server: Server, log: (line: string) => void): void {
  process.on('SIGHUP', () => {
    const front = server.tls;
    if (front === null) return;
    try {
      front.reload();
      log(`sluice: SIGHUP: certificates reloaded (${front.loaded.map((c) => `${c.names.join(', ')} until ${c.validTo}`).join('; ')})`);
    } catch (err) {
      log(`sluice: SIGHUP: certificates not reloaded, the old ones stay: ${(err as Error).message}`);
    }
  });
}
