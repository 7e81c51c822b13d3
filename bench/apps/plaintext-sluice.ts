// TechEmpower-style plaintext app on sluice: GET /plaintext (any path) answers `Hello, World!` as
// text/plain with a Server header; sluice adds Date and Content-Length for every response (the
// rules forbid a pre-rendered whole response, so the head is built per request like any other).
//   node dist/bench/apps/plaintext-sluice.js [--port N] [--host H]
import { serve } from '../../src/server/server.js';
import type { Handler } from '../../src/http/types.js';

const BODY = 'Hello, World!';
const handler: Handler = () => ({ headers: { 'Content-Type': 'text/plain', Server: 'sluice' }, body: BODY });

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
// Connections served at once: as many as nginx's worker_connections in this scenario (sluice's
// default, 10,000, would leave the rest of 16,384 keep-alive clients queued until one closes).
const server = await serve(handler, { host: arg('host', '127.0.0.1'), port: Number(arg('port', '0')), concurrency: 32_768 });
console.log(`sluice plaintext listening on ${server.url}`);
process.on('SIGTERM', () => void server.close(1000).then(() => process.exit(0)));
