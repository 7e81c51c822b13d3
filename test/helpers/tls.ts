// TLS test tools: throw-away EC certificates made with openssl, the CLI started over HTTPS (its
// start-up line says https://), and small HTTP/2 and HTTPS/1.1 clients that trust a given CA.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { serve, type Handler, type Server, type ServeOptions } from '../../src/index.js';
import { startCli } from './cli.js';

/** A self-signed P-256 certificate for `names` (DNS names or IPs), valid one day; files in `dir`. */
export function makeCert(dir: string, base: string, names: string[]): { certFile: string; keyFile: string; cert: Buffer; key: Buffer } {
  const keyFile = path.join(dir, `${base}.key`);
  const certFile = path.join(dir, `${base}.crt`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`,
  ], { stdio: 'pipe', timeout: 10_000 });
  return { certFile, keyFile, cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
}

export interface RunningTls {
  port: number;
  /** https://127.0.0.1:PORT */
  url: string;
  output(): string;
  /** Resolves when the output matches (deadline `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<number | null>;
}

/** Runs the CLI with TLS flags on a free port and resolves once it prints its https:// start-up line. */
export async function startTlsCli(args: string[], timeoutMs = 15_000): Promise<RunningTls> {
  const run = await startCli(args, { timeoutMs, scheme: 'https', startLine: /listening on https:\/\/(127\.0\.0\.1):(\d+)/ });
  return { ...run, stop: () => run.stop(8000) };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP/2 request on its own session (deadline `ms`). */
export function h2get(origin: string, ca: Buffer | string, headers: http2.OutgoingHttpHeaders, body?: Buffer | string, ms = 8000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin, { ca, servername: 'localhost' });
    const t = setTimeout(() => { session.destroy(); reject(new Error(`HTTP/2 request timed out after ${ms} ms`)); }, ms);
    session.on('error', (e) => { clearTimeout(t); reject(e); });
    const req = session.request(headers);
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => { head = h; });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (e) => { clearTimeout(t); session.destroy(); reject(e); });
    req.on('end', () => {
      clearTimeout(t);
      session.close();
      const { ':status': status, ...rest } = head;
      resolve({ status: Number(status), headers: rest as Reply['headers'], body: Buffer.concat(chunks) });
    });
    req.end(body);
  });
}

/** One HTTPS/1.1 request (ALPN offers only http/1.1), trusting `ca` (deadline `ms`). */
export function h1get(origin: string, ca: Buffer | string, opts: https.RequestOptions & { path: string }, body?: Buffer | string, ms = 8000): Promise<Reply & { alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${origin}${opts.path}`, { ca, servername: 'localhost', agent: false, ...opts, timeout: ms }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks),
        alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol ?? null,
      }));
    });
    req.on('timeout', () => req.destroy(new Error(`HTTPS request timed out after ${ms} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `openssl s_client` against a port with extra args; resolves with its output (deadline `ms`). */
export function sClient(port: number, args: string[], ms = 8000): Promise<string> {
  return new Promise((resolve) => {
    const p = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { timeout: ms, encoding: 'latin1' }, (_err, stdout, stderr) => resolve(stdout + stderr));
    p.stdin?.end('');
  });
}

/** The SHA-256 fingerprint of the certificate a server presents (for a given SNI name). */
export async function servedFingerprint(port: number, servername = 'localhost'): Promise<string> {
  const out = await sClient(port, ['-servername', servername]);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out);
  if (!pem) throw new Error(`no certificate in s_client output:\n${out}`);
  return new (await import('node:crypto')).X509Certificate(pem[0]).fingerprint256;
}

/** A temp folder with a certificate for localhost/127.0.0.1 in it; `cleanup` removes it. */
export function tempCert(prefix: string): { dir: string; local: ReturnType<typeof makeCert>; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, local: makeCert(dir, 'local', ['localhost', '127.0.0.1']), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** serve() over TLS on a free port with `pem`; handler errors are not printed. */
export async function serveTls(handler: Handler, pem: { cert: Buffer; key: Buffer }, extra: Partial<ServeOptions> = {}): Promise<{ server: Server; origin: string }> {
  const server = await serve(handler, { port: 0, tls: { cert: pem.cert, key: pem.key }, onError: () => {}, ...extra });
  return { server, origin: `https://127.0.0.1:${server.port}` };
}

/** An HTTP/2 session trusting `ca` (errors are swallowed: tests look at streams and events). */
export function h2connect(origin: string, ca: Buffer): http2.ClientHttp2Session {
  const s = http2.connect(origin, { ca, servername: 'localhost' });
  s.on('error', () => {});
  return s;
}
