// The benchmark's Hono app on @hono/node-server (node:http underneath): node hono-node-server.mjs --host H --port P
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import app from './hono-bench.mjs';

const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } } });
const server = serve({ fetch: app.fetch, hostname: values.host, port: Number(values.port) }, (info) => {
  console.log(`@hono/node-server listening on http://${values.host}:${info.port}/`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
