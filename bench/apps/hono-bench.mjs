// The Hono app of the fetch-apps benchmark: served by `sluice THIS_FILE` and by @hono/node-server
// (bench/apps/hono-node-server.mjs), the same routes as the Fastify one (bench/apps/fastify.mjs).
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello, World!'));
app.get('/json', (c) => c.json({ message: 'Hello, World!' }));
app.get('/user/:id', (c) => c.json({ id: c.req.param('id'), agent: c.req.header('user-agent') ?? null }));

export default app;
