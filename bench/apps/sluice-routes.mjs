// The benchmark's routes written against sluice's own handler API (no fetch adapter): the
// reference for what Hono and the adapter add. Served by `sluice THIS_FILE` (a named `handler`).
import { Router } from '../../dist/src/index.js';

const TEXT = { 'content-type': 'text/plain;charset=UTF-8' };
const JSON_TYPE = { 'content-type': 'application/json' };

export const handler = new Router()
  .get('/', () => ({ status: 200, headers: TEXT, body: 'Hello, World!' }))
  .get('/json', () => ({ status: 200, headers: JSON_TYPE, body: JSON.stringify({ message: 'Hello, World!' }) }))
  .get('/user/:id', (req) => ({
    status: 200, headers: JSON_TYPE,
    body: JSON.stringify({ id: req.params.id, agent: req.headers.get('user-agent') ?? null }),
  }))
  .handle;
