// The same plaintext app on node:http: `Hello, World!`, text/plain, Server; node:http adds Date.
//   node dist/bench/apps/plaintext-node.js [--port N] [--host H]
import http from 'node:http';

const BODY = 'Hello, World!';
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length, Server: 'node' });
  res.end(BODY);
});
server.keepAliveTimeout = 75_000;
server.listen({ host: arg('host', '127.0.0.1'), port: Number(arg('port', '0')), backlog: 65535 }, () => {
  const a = server.address() as { address: string; port: number };
  console.log(`node:http plaintext listening on http://${a.address}:${a.port}`);
});
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); process.exit(0); });
