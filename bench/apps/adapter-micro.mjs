// In-process cost of a keep-alive request through sluice's engine (no sockets): the benchmark's
// routes on sluice's own handler API, as a bare fetch handler through fromFetch (the adapter's
// cost), and as a Hono app through fromFetch (the adapter's and Hono's). CPU time of this process, median
// of 5 interleaved runs.
//   node bench/apps/adapter-micro.mjs [N]        (after npm run build; pin it: taskset -c 1 ...)
import { Duplex } from 'node:stream';
import { handleConnection, fromFetch } from '../../dist/src/index.js';
import { handler as sluiceApi } from './sluice-routes.mjs';
import hono from './hono-bench.mjs';

const N = Number(process.argv[2] ?? 100_000);
const honoHandler = fromFetch(hono);
// The same routes as a bare fetch handler: what the adapter alone costs (no framework).
const JSON_TYPE = { 'content-type': 'application/json' };
const bareHandler = fromFetch((request) => {
  const url = request.url;
  const path = url.slice(url.indexOf('/', 8));
  if (path === '/') return new Response('Hello, World!');
  if (path === '/json') return new Response(JSON.stringify({ message: 'Hello, World!' }), { headers: JSON_TYPE });
  if (path.startsWith('/user/')) {
    return new Response(JSON.stringify({ id: path.slice(6), agent: request.headers.get('user-agent') }), { headers: JSON_TYPE });
  }
  return new Response('Not Found', { status: 404 });
});

/** One connection over an in-memory stream: sends a request when the previous response is out. */
function run(handler, target, n) {
  const request = Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n`);
  return new Promise((resolve) => {
    let left = n;
    const stream = new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        cb();
        if (--left > 0) stream.push(request);
        else { stream.push(null); resolve(); }
      },
    });
    void handleConnection(stream, handler, { keepAliveTimeoutMs: 60_000 });
    stream.push(request);
  });
}

/** CPU time (not wall time: the machine may be busy with other work) per request, in µs. */
async function perRequest(handler, target) {
  const c0 = process.cpuUsage();
  await run(handler, target, N);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const targets = ['/', '/json', '/user/42'];
await perRequest(sluiceApi, '/'); await perRequest(honoHandler, '/'); // warm up
const out = {};
for (let round = 0; round < 5; round++) {
  for (const t of targets) {
    for (const [name, h] of [['sluice API', sluiceApi], ['bare fetch handler', bareHandler], ['Hono via fromFetch', honoHandler]]) {
      ((out[t] ??= {})[name] ??= []).push(await perRequest(h, t));
    }
  }
}
for (const t of targets) {
  const a = median(out[t]['sluice API']), f = median(out[t]['bare fetch handler']), b = median(out[t]['Hono via fromFetch']);
  const d = (x) => `+${(x - a).toFixed(2)} µs (${((x / a - 1) * 100).toFixed(0)} %)`;
  console.log(`${t.padEnd(9)} sluice API ${a.toFixed(2)} µs | bare fetch handler ${f.toFixed(2)} µs ${d(f)} | Hono ${b.toFixed(2)} µs ${d(b)}`);
}
