// The lazy Request and the lightweight Response, in memory: what is built when, and that what is
// built behaves like the platform's classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldList } from '../src/http/fields.js';
import { BODY_LENGTH, BODY_NONE } from '../src/http/parser.js';
import { IncomingRequest, type BodySource } from '../src/http/request.js';
import { HttpError } from '../src/http/errors.js';
import { FetchRequest, NativeRequest } from '../src/fetch/request.js';
import { FastResponse, installGlobals, NativeResponse } from '../src/fetch/globals.js';
import { PLATFORM_PEEK, toSluiceResponse, WebBody } from '../src/fetch/response.js';

installGlobals();

const source: BodySource = {
  bodyWanted() {}, bodyResumed() {},
  info: { remoteAddress: '10.0.0.1', remotePort: 4000, scheme: 'https', forwarded: null },
};

function incoming(method: string, target: string, fields: [string, string][], body?: string): IncomingRequest {
  const headers = new FieldList();
  for (const [n, v] of fields) headers.add(n, n.toLowerCase(), v);
  const q = target.indexOf('?');
  const req = new IncomingRequest({
    method, target, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), minorVersion: 1, headers,
    keepAlive: true, expectContinue: false, bodyKind: body === undefined ? BODY_NONE : BODY_LENGTH,
    contentLength: body === undefined ? 0 : Buffer.byteLength(body), trailers: null,
  }, source);
  if (body !== undefined) { req._push(Buffer.from(body)); req._end(); }
  return req;
}

const lazy = (method: string, target: string, fields: [string, string][] = [['Host', 'app.test']], body?: string) =>
  new FetchRequest(incoming(method, target, fields, body));

test('nothing web-standard is built for url, method and header reads', () => {
  const r = lazy('GET', '/a?b=1', [['Host', 'app.test'], ['Accept', 'x/y'], ['Cookie', 'a=1'], ['Cookie', 'b=2']]);
  assert.ok(r instanceof Request && r instanceof NativeRequest);
  assert.equal(r.url, 'https://app.test/a?b=1');
  assert.equal(r.method, 'GET');
  assert.equal(r._headers, null, 'no headers object before headers is read');
  assert.equal(r.headers.get('ACCEPT'), 'x/y');
  assert.equal(r.headers.get('cookie'), 'a=1; b=2');
  assert.equal(r.headers.has('accept'), true);
  assert.equal(r.headers.get('missing'), null);
  assert.ok(r.headers instanceof Headers);
  assert.equal(r._headers!._native, null, 'get() and has() read the field list');
  assert.equal(r._native, null, 'no Request built');
  assert.equal(r.body, null);
});

test('what is touched is built once', () => {
  const r = lazy('GET', '/', [['Host', 'h'], ['X-A', '1']]);
  assert.deepEqual([...r.headers], [['host', 'h'], ['x-a', '1']]);
  const nativeHeaders = r._headers!._native;
  assert.ok(nativeHeaders instanceof Headers);
  void [...r.headers.keys()];
  assert.equal(r._headers!._native, nativeHeaders, 'the real Headers is kept');
  assert.equal((r as unknown as Request).cache, 'default'); // a member with no shortcut: the real Request is built...
  const native = r._native;
  assert.ok(native !== null);
  assert.equal(r.clone().url, 'https://h/');
  assert.equal(r._native, native, '...once');
  assert.throws(() => r.headers.set('x', 'y'), TypeError);
});

test('body methods read sluice\'s body; a second read is refused', async () => {
  const r = lazy('POST', '/', [['Host', 'h'], ['Content-Type', 'application/json']], '{"a":1}');
  assert.equal(r.bodyUsed, false);
  assert.deepEqual(await r.json(), { a: 1 });
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), TypeError);
  assert.equal(r._native, null);
  const form = lazy('POST', '/', [['Host', 'h'], ['Content-Type', 'application/x-www-form-urlencoded']], 'x=1&y=two');
  const fd = await form.formData();
  assert.equal(fd.get('y'), 'two');
  const bytes = lazy('PUT', '/', [['Host', 'h']], 'abc');
  assert.deepEqual([...new Uint8Array(await bytes.arrayBuffer())], [97, 98, 99]);
  const streamed = lazy('POST', '/', [['Host', 'h']], 'via stream');
  assert.equal(await new Response(streamed.body).text(), 'via stream');
  assert.equal(streamed.bodyUsed, true);
});

test('new Request(lazy) and the signal', () => {
  const r = lazy('DELETE', '/x', [['Host', 'h'], ['X-Y', 'z']]);
  const copy = new Request(r as unknown as Request);
  assert.equal(copy.url, 'https://h/x');
  assert.equal(copy.method, 'DELETE');
  assert.equal(copy.headers.get('x-y'), 'z');
  assert.equal(r.signal, r._req.signal, 'the sluice request\'s signal, aborted by the connection');
  assert.equal(r.signal.aborted, false);
});

test('URLs that need the URL parser, and ones that cannot be described (400)', () => {
  assert.equal(lazy('GET', '/a/./b/../c%20d', [['Host', 'H.Test:80']]).url, 'https://h.test:80/a/c%20d');
  assert.equal(lazy('get', '/', [['Host', 'h']]).method, 'GET');
  assert.equal(lazy('OPTIONS', '*', [['Host', 'h']]).url, 'https://h/');
  assert.equal(lazy('GET', 'http://other.test/p', [['Host', 'h']]).url, 'http://other.test/p');
  assert.throws(() => lazy('GET', '/', [['Host', 'a@b']]), (e: unknown) => e instanceof HttpError && e.status === 400);
});

test('the lightweight Response builds nothing until asked, and is written from what it was given', async () => {
  const res = new Response('hi', { status: 201, headers: { 'x-a': '1' } }) as unknown as FastResponse;
  assert.ok(res instanceof Response && res instanceof NativeResponse && FastResponse.is(res));
  assert.equal(res._native, null);
  const out = toSluiceResponse(res, incoming('GET', '/', [['Host', 'h']]));
  assert.deepEqual(out, { status: 201, reason: undefined, headers: { 'x-a': '1', 'content-type': 'text/plain;charset=UTF-8' }, body: 'hi' });
  assert.equal(res.headers.get('content-type'), 'text/plain;charset=UTF-8');
  res.headers.set('x-b', '2'); // changes made through headers go out
  assert.equal((toSluiceResponse(res, incoming('GET', '/', [['Host', 'h']])).headers as Record<string, string>)['x-b'], '2');
  assert.equal(res._native, null);
  assert.equal(await res.text(), 'hi');
  assert.ok(res._native !== null, 'reading the body builds the real Response');
  const json = Response.json({ a: 1 }, { status: 400 });
  assert.equal(json.status, 400);
  assert.equal(json.headers.get('content-type'), 'application/json');
  assert.throws(() => new Response('x', { status: 204 }), TypeError);
  assert.throws(() => new Response('x', { status: 99 }), RangeError);
});

async function drained(body: unknown): Promise<Buffer> {
  assert.ok(body instanceof WebBody, 'streamed');
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts);
}

test('a platform Response: an untouched string or bytes source is sent as it is (where Node exposes it), anything else streamed', async (t) => {
  const get = incoming('GET', '/', [['Host', 'h']]);
  const text = new NativeResponse('from the platform', { status: 203, headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2']] });
  const out = toSluiceResponse(text, get);
  assert.equal(out.status, 203);
  assert.deepEqual((out.headers as Record<string, unknown>)['set-cookie'], ['a=1', 'b=2']);
  const bytes = toSluiceResponse(new NativeResponse(new Uint8Array([1, 2])), get);
  if (PLATFORM_PEEK) {
    assert.equal(out.body, 'from the platform');
    assert.equal(text.bodyUsed, false, 'peeked at, not consumed');
    assert.deepEqual([...(bytes.body as Uint8Array)], [1, 2]);
  } else {
    t.diagnostic(`Node ${process.version} keeps the Response's body source private: platform Responses are streamed`);
    assert.equal((await drained(out.body)).toString(), 'from the platform');
    assert.deepEqual([...(await drained(bytes.body))], [1, 2]);
  }
  const streamed = toSluiceResponse(new NativeResponse(new ReadableStream({ start: (c) => c.close() })), get);
  assert.ok(streamed.body instanceof WebBody);
  assert.throws(() => toSluiceResponse(NativeResponse.error(), get), TypeError);
  assert.throws(() => toSluiceResponse('text', get), /returned string for GET \/, not a Response/);
});
