// A small app on sluice's library API, handy for poking the server with third-party HTTP tools.
//   node dist/examples/echo.js --host 127.0.0.1 --port 8080
//   /echo   (any method) → the request's header fields, one "name: value" line per field line as received
//   /cookie             → the Cookie header's pairs, one "name=value" line each
//   any other request with a body → the body, echoed back (read whole first)
//   anything else → "OK"
import { parseArgs } from 'node:util';
import { Router, serve, type Handler } from '../src/index.js';

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8' };

const echoHeaders: Handler = (req) => {
  let out = '';
  for (const [name, value] of req.headers.entries()) out += `${name}: ${value}\n`;
  return { headers: TEXT, body: out };
};

const cookies: Handler = (req) => {
  let out = '';
  for (const header of req.headers.getAll('cookie')) {
    for (const pair of header.split(';')) {
      const p = pair.trim();
      if (p) out += `${p}\n`;
    }
  }
  return { headers: TEXT, body: out };
};

const echoBodyOrOk: Handler = async (req) => {
  if (req.hasBody) {
    const body = await req.body();
    return { headers: { 'Content-Type': req.headers.get('content-type') ?? 'application/octet-stream' }, body };
  }
  return { headers: TEXT, body: 'OK' };
};

const app = new Router().all('/echo', echoHeaders).all('/cookie', cookies).fallback(echoBodyOrOk);

const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' } } });
const server = await serve(app.handle, {
  host: values.host ?? '127.0.0.1',
  port: Number(values.port ?? 8080),
  maxBodySize: 16 * 1024 * 1024,
});
console.log(`echo listening on ${server.url}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void server.close().then(() => process.exit(0)));
