// A Hono app, served by sluice as it is:  sluice examples/hono-app.mjs [--workers N] [--static DIR]
// (or from code: `serve(app)` from sluice, or `serve(fromFetch(handler))` for a bare function).
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';

const app = new Hono();

app.get('/', (c) => c.text('Hello from Hono on sluice\n'));

app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name'), lang: c.req.query('lang') ?? 'en' }));

app.post('/echo', async (c) => c.json({ received: await c.req.json() }, 201));

app.get('/visits', (c) => {
  const n = Number(getCookie(c, 'visits') ?? '0') + 1;
  setCookie(c, 'visits', String(n), { path: '/', httpOnly: true });
  return c.text(`visit number ${n}\n`);
});

// The client's address comes in the second argument of fetch (Hono's c.env).
app.get('/ip', (c) => c.text(`${c.env?.remoteAddress}\n`));

app.get('/clock', (c) => streamSSE(c, async (stream) => {
  for (let i = 0; i < 5 && !c.req.raw.signal.aborted; i++) {
    await stream.writeSSE({ event: 'tick', data: new Date().toISOString() });
    await stream.sleep(1000);
  }
}));

export default app;
