// Router: exact paths, ":name" and "*" patterns, HEAD from GET, 405 with Allow, the fallback.
// Unit tests on plain request objects, then the same router behind a real server and fetch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../src/app/router.js';
import { serve } from '../src/server/server.js';
import type { SluiceRequest, SluiceResponse } from '../src/http/types.js';
import { rawRequest } from './helpers/net.js';

function req(method: string, path: string): SluiceRequest {
  return { method, path, target: path, query: '', params: {} } as unknown as SluiceRequest;
}

const said = (text: string) => (r: SluiceRequest): SluiceResponse => ({ body: `${text} ${JSON.stringify(r.params)}` });

async function call(router: Router, method: string, path: string): Promise<SluiceResponse & { r: SluiceRequest }> {
  const r = req(method, path);
  return { ...(await router.handle(r)), r };
}

function makeRouter(): Router {
  return new Router()
    .get('/', said('home'))
    .post('/', said('post home'))
    .get('/users/:id', said('user'))
    .put('/users/:id', said('put user'))
    .get('/users/:id/posts/:post', said('post'))
    .get('/static/*', said('static'))
    .all('/any', said('any'))
    .delete('/items/:id', said('delete item'));
}

test('exact paths are matched by method; HEAD is served by the GET route', async () => {
  const r = makeRouter();
  assert.equal((await call(r, 'GET', '/')).body, 'home {}');
  assert.equal((await call(r, 'POST', '/')).body, 'post home {}');
  assert.equal((await call(r, 'HEAD', '/')).body, 'home {}');
  assert.equal((await call(r, 'PATCH', '/any')).body, 'any {}', 'all() takes any method');
});

test('":name" segments become decoded params; "*" takes the rest of the path', async () => {
  const r = makeRouter();
  assert.equal((await call(r, 'GET', '/users/42')).body, 'user {"id":"42"}');
  assert.equal((await call(r, 'GET', '/users/a%20b')).body, 'user {"id":"a b"}', 'percent-decoded');
  assert.equal((await call(r, 'GET', '/users/%E0%A4%A')).body, 'user {"id":"%E0%A4%A"}', 'an invalid escape is kept as sent');
  assert.equal((await call(r, 'GET', '/users/7/posts/9')).body, 'post {"id":"7","post":"9"}');
  assert.equal((await call(r, 'HEAD', '/users/7')).body, 'user {"id":"7"}', 'HEAD also reaches GET patterns');
  assert.equal((await call(r, 'GET', '/static/css/site.css')).body, 'static {"*":"css/site.css"}');
  assert.equal((await call(r, 'GET', '/static/')).body, 'static {"*":""}');
  const viaParams = await call(r, 'GET', '/users/5');
  assert.deepEqual(viaParams.r.params, { id: '5' }, 'params are set on the request');
});

test('a pattern does not match an empty segment, a shorter or a longer path', async () => {
  const r = makeRouter();
  for (const path of ['/users/', '/users', '/users/1/2', '/users/1/posts']) {
    assert.equal((await call(r, 'GET', path)).status, 404, path);
  }
});

test('a path served under other methods is 405 with Allow listing them', async () => {
  const r = makeRouter();
  const exact = await call(r, 'DELETE', '/');
  assert.equal(exact.status, 405);
  assert.deepEqual(String(exact.headers!.Allow).split(', ').sort(), ['GET', 'HEAD', 'POST']);
  const pattern = await call(r, 'POST', '/users/3');
  assert.equal(pattern.status, 405);
  assert.deepEqual(String(pattern.headers!.Allow).split(', ').sort(), ['GET', 'HEAD', 'PUT'], 'HEAD is answered like GET on patterns too');
  const del = await call(r, 'GET', '/items/1');
  assert.equal(del.status, 405);
  assert.equal(del.headers!.Allow, 'DELETE');
});

test('unmatched paths go to the fallback (404 by default, or the one set)', async () => {
  const r = makeRouter();
  const nf = await call(r, 'GET', '/nowhere');
  assert.equal(nf.status, 404);
  assert.equal(nf.body, 'Not Found\n');
  r.fallback(() => ({ status: 418, body: 'teapot' }));
  assert.equal((await call(r, 'GET', '/nowhere')).status, 418);
  assert.equal((await call(r, 'DELETE', '/')).status, 405, 'the fallback does not replace 405');
});

test('route paths are checked when registered', () => {
  assert.throws(() => new Router().get('users', said('x')), /start with "\/"/);
  assert.throws(() => new Router().get('/a/*/b', said('x')), /last segment/);
});

test('over a real server: params, 405 with Allow, 404', async () => {
  const server = await serve(makeRouter().handle, { port: 0 });
  try {
    const get = (path: string, method = 'GET') => fetch(`${server.url.replace(/\/$/, '')}${path}`, { method, signal: AbortSignal.timeout(5000) });
    const u = await get('/users/42');
    assert.equal(u.status, 200);
    assert.equal(await u.text(), 'user {"id":"42"}');
    const m = await get('/users/42', 'DELETE');
    assert.equal(m.status, 405);
    assert.deepEqual(m.headers.get('allow')!.split(', ').sort(), ['GET', 'HEAD', 'PUT']);
    await m.arrayBuffer();
    const n = await get('/missing');
    assert.equal(n.status, 404);
    await n.arrayBuffer();
  } finally {
    await server.close(2000);
  }
});

test('over a real server: a method added with extraMethods is routed, others are 501', async () => {
  const app = new Router().on('BREW', '/pot', () => ({ status: 418, body: 'teapot\n' }));
  const server = await serve(app.handle, { port: 0, extraMethods: ['BREW'] });
  try {
    const brew = await rawRequest(server.port, 'BREW /pot HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.match(brew, /^HTTP\/1\.1 418 /);
    const other = await rawRequest(server.port, 'WHEN /pot HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.match(other, /^HTTP\/1\.1 501 /);
  } finally {
    await server.close(2000);
  }
});
