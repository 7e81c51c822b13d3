// Response framing as a pure function (src/http/h1/framing.ts) and the head encoder's checked
// string-to-bytes boundary (src/http/encode.ts): no stream, no clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Framing, frameResponse, type ExchangeFacts } from '../src/http/h1/framing.js';
import { errorBody, errorResponse, reasonPhrase, ResponseHeadError, statusLine } from '../src/http/encode.js';
import type { SluiceResponse } from '../src/http/types.js';

const DATE = 'Date: Tue, 01 Dec 2026 20:00:00 GMT\r\n';
const DATE2 = 'Date: Tue, 01 Dec 2026 20:00:01 GMT\r\n';
const GET11: ExchangeFacts = { head: false, minorVersion: 1, keepAlive: true };
const headText = (h: string | Uint8Array) => (typeof h === 'string' ? h : Buffer.from(h).toString('latin1'));

test('byte and text bodies get Content-Length; text without a Content-Type gets text/plain; charset=utf-8', () => {
  const f = frameResponse(GET11, { body: 'héllo' }, DATE);
  assert.equal(f.framing, Framing.Length);
  assert.equal(f.length, 6);
  assert.equal(f.keepAlive, true);
  assert.equal(headText(f.head), `HTTP/1.1 200 OK\r\n${DATE}Content-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\n`);
  const own = frameResponse(GET11, { headers: { 'CONTENT-type': 'text/csv' }, body: 'a,b' }, DATE);
  assert.equal(headText(own.head), `HTTP/1.1 200 OK\r\nCONTENT-type: text/csv\r\n${DATE}Content-Length: 3\r\n\r\n`);
  const bytes = frameResponse(GET11, { body: Buffer.from('abc') }, DATE);
  assert.doesNotMatch(headText(bytes.head), /Content-Type/, 'bytes are not labelled for the app');
});

test('streams: chunked on HTTP/1.1, the given Content-Length, close-delimited on HTTP/1.0', () => {
  const chunked = frameResponse(GET11, { body: Readable.from(['x']) }, DATE);
  assert.equal(chunked.framing, Framing.Chunked);
  assert.match(headText(chunked.head), /Transfer-Encoding: chunked\r\n/);
  const sized = frameResponse(GET11, { headers: { 'Content-Length': 5 }, body: Readable.from(['x']) }, DATE);
  assert.equal(sized.framing, Framing.Length);
  assert.equal(sized.length, 5);
  const old = frameResponse({ head: false, minorVersion: 0, keepAlive: true }, { body: Readable.from(['x']) }, DATE);
  assert.equal(old.framing, Framing.Close);
  assert.equal(old.keepAlive, false);
  assert.match(headText(old.head), /Connection: close\r\n\r\n$/);
});

test('HEAD, 204 and 304 send no body; HEAD keeps the length a GET would have', () => {
  const head = frameResponse({ ...GET11, head: true }, { body: 'twelve bytes' }, DATE);
  assert.equal(head.body, null);
  assert.equal(head.framing, Framing.None);
  assert.match(headText(head.head), /Content-Length: 12\r\n/);
  const noContent = frameResponse(GET11, { status: 204, body: 'ignored' }, DATE);
  assert.equal(noContent.body, null);
  assert.doesNotMatch(headText(noContent.head), /Content-Length|Content-Type/);
  const notModified = frameResponse(GET11, { status: 304, headers: { 'Content-Length': '99' } }, DATE);
  assert.match(headText(notModified.head), /Content-Length: 99\r\n/);
});

test('keep-alive: the connection\'s wish, the handler\'s Connection: close, HTTP/1.0\'s explicit keep-alive', () => {
  assert.match(headText(frameResponse({ ...GET11, keepAlive: false }, { body: 'x' }, DATE).head), /Connection: close\r\n/);
  const asked = frameResponse(GET11, { headers: { Connection: 'close' }, body: 'x' }, DATE);
  assert.equal(asked.keepAlive, false);
  assert.equal((headText(asked.head).match(/Connection/g) ?? []).length, 1, 'the handler\'s field is replaced, not doubled');
  assert.match(headText(frameResponse({ head: false, minorVersion: 0, keepAlive: true }, { body: 'x' }, DATE).head), /Connection: keep-alive\r\n/);
  assert.equal(frameResponse(GET11, { headers: { Connection: 'Upgrade, close' }, body: 'x' }, DATE).keepAlive, false, 'close as one token of a list');
  assert.equal(frameResponse(GET11, { headers: { Connection: 'closed' }, body: 'x' }, DATE).keepAlive, true, '"closed" is not "close"');
});

test('a frozen response: its head is encoded once and reused as the same bytes until the Date line changes', () => {
  const res: SluiceResponse = Object.freeze({ status: 200, headers: Object.freeze({ 'X-A': '1' }), body: Buffer.from('same') });
  const a = frameResponse(GET11, res, DATE);
  const b = frameResponse(GET11, res, DATE);
  assert.ok(a.head instanceof Uint8Array);
  assert.equal(a.head, b.head, 'the cached bytes themselves, not a copy');
  const c = frameResponse(GET11, res, DATE2);
  assert.notEqual(c.head, a.head, 'a new second: new bytes');
  assert.equal(headText(c.head), headText(a.head).replace(DATE, DATE2));
  const unfrozen = { ...res };
  assert.equal(typeof frameResponse(GET11, unfrozen, DATE).head, 'string', 'not frozen: built each time, not cached');
});

test('response splitting: characters above U+00FF, CR, LF, NUL and other controls are refused in values, names and reasons', () => {
  const bad: SluiceResponse[] = [
    { headers: { 'X-Name': 'a\u010d\u010aSet-Cookie: pwned=1' } }, // Latin-1 would truncate these to CR LF
    { headers: { 'X-Name': 'a\r\nSet-Cookie: pwned=1' } },
    { headers: { 'X-Name': 'a\nb' } },
    { headers: { 'X-Name': 'a\u0000b' } },
    { headers: { 'X-Name': '\u2028' } },
    { headers: { 'X-List': ['ok', 'bad\u010a'] } },
    { headers: { 'X-N\u0101me': 'v' } },
    { headers: { 'X Name': 'v' } },
    { headers: { '': 'v' } },
    { reason: 'OK\u010d\u010aSet-Cookie: x' },
    { reason: 'OK\r\nX: y' },
    { status: 99 },
    { status: 200.5 },
    { headers: { 'Content-Length': '-1' } },
  ];
  for (const res of bad) assert.throws(() => frameResponse(GET11, res, DATE), ResponseHeadError, JSON.stringify(res));
  // What stays allowed: tab, Latin-1 text (obs-text), visible ASCII.
  const ok = frameResponse(GET11, { reason: 'Fine\tThanks', headers: { 'X-A': 'caf\u00e9\tb' } }, DATE);
  assert.match(headText(ok.head), /^HTTP\/1\.1 200 Fine\tThanks\r\nX-A: caf\u00e9\tb\r\n/);
});

test('reason phrases are RFC 9110\'s, and error bodies start with the same words', () => {
  assert.equal(statusLine(413), 'HTTP/1.1 413 Content Too Large\r\n');
  assert.equal(statusLine(422), 'HTTP/1.1 422 Unprocessable Content\r\n');
  assert.equal(reasonPhrase(404), 'Not Found');
  assert.equal(errorBody(413, 'Content Too Large'), 'Content Too Large\n');
  assert.equal(errorBody(408, 'Request Timeout: headers not received in time'), 'Request Timeout: headers not received in time\n');
  assert.equal(errorBody(500, ''), 'Internal Server Error\n');
  assert.equal(errorBody(400, 'missing Host'), 'Bad Request: missing Host\n');
  const r = errorResponse(413, 'Content Too Large', false);
  assert.match(r, /^HTTP\/1\.1 413 Content Too Large\r\n[^]*Connection: close\r\n\r\nContent Too Large\n$/);
});
