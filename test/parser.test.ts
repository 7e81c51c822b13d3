// The parser, byte by byte: every case is fed whole and split at every byte position, and must
// give the same requests (or the same error) either way. The malformed inputs are the fuzzer's
// corpus (fuzz/corpus.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATA, END, HEAD, NEED_DATA, RequestParser } from '../src/http/parser.js';
import { latin1Slice, latin1SliceFallback, NATIVE_LATIN1_SLICE } from '../src/http/latin1.js';
import { HttpError } from '../src/http/errors.js';
import { MALFORMED } from '../fuzz/corpus.js';
import { expectError, parseAllWays, run } from './helpers/parse.js';

test('a simple GET', () => {
  const out = parseAllWays('GET /hello?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n');
  assert.equal(out.error, undefined);
  assert.equal(out.requests.length, 1);
  const r = out.requests[0];
  assert.equal(r.method, 'GET');
  assert.equal(r.target, '/hello?x=1&y=2');
  assert.equal(r.path, '/hello');
  assert.equal(r.query, 'x=1&y=2');
  assert.equal(r.minor, 1);
  assert.deepEqual(r.headers, [['Host', 'example.com'], ['User-Agent', 't']]);
  assert.equal(r.keepAlive, true);
});

test('header names are case-insensitive for lookup, kept as received, repeats kept in order', () => {
  const p = new RequestParser();
  p.feed(Buffer.from('GET / HTTP/1.1\r\nHOST: a\r\nX-Thing: 1\r\nx-thing: 2\r\nAccept:  text/html \t\r\n\r\n'));
  assert.equal(p.next(), HEAD);
  const h = p.head!.headers;
  assert.equal(h.get('host'), 'a');
  assert.deepEqual(h.getAll('x-thing'), ['1', '2']);
  assert.equal(h.get('accept'), 'text/html', 'optional whitespace around the value is trimmed');
  assert.deepEqual([...h.entries()][0], ['HOST', 'a']);
  assert.equal(h.has('missing'), false);
});

test('pipelined requests in one buffer come out in order', () => {
  const out = parseAllWays(
    'GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: h\r\n\r\n',
  );
  assert.deepEqual(out.requests.map((r) => [r.method, r.path, r.body]), [['GET', '/a', ''], ['POST', '/b', 'hello'], ['GET', '/c', '']]);
});

test('chunked body with extensions and trailers', () => {
  const out = parseAllWays(
    'POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value;q="a \\"quoted\\" ext"\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Sum: abc\r\n\r\n',
  );
  assert.equal(out.error, undefined, out.error?.message);
  assert.equal(out.requests[0].body, 'hello world0123456789');
  assert.deepEqual(out.requests[0].trailers, [['X-Sum', 'abc']]);
});

test('Transfer-Encoding list ending in chunked is chunked; case-insensitive', () => {
  const out = parseAllWays('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\na\r\n0\r\n\r\n');
  assert.equal(out.requests[0].body, 'a');
});

test('keep-alive rules: 1.1 default on, 1.0 only with Connection: keep-alive', () => {
  const ka = (s: string) => parseAllWays(s).requests[0].keepAlive;
  assert.equal(ka('GET / HTTP/1.1\r\nHost: h\r\n\r\n'), true);
  assert.equal(ka('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'), false);
  assert.equal(ka('GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, Close\r\n\r\n'), false);
  assert.equal(ka('GET / HTTP/1.0\r\n\r\n'), false);
  assert.equal(ka('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'), true);
});

test('HTTP/1.0 needs no Host', () => {
  const out = parseAllWays('GET / HTTP/1.0\r\n\r\n');
  assert.equal(out.requests[0].minor, 0);
});

test('Expect: 100-continue is reported for a request with a body', () => {
  const out = parseAllWays('PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok');
  assert.equal(out.requests[0].expectContinue, true);
  assert.equal(out.requests[0].body, 'ok');
});

test('one leading empty line before the request line is tolerated', () => {
  const out = parseAllWays('\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(out.requests.length, 1);
});

test('request-target forms', () => {
  const abs = parseAllWays('GET http://example.com/p/q?z=1 HTTP/1.1\r\nHost: example.com\r\n\r\n').requests[0];
  assert.deepEqual([abs.path, abs.query], ['/p/q', 'z=1']);
  assert.equal(parseAllWays('GET HTTPS://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n').requests[0].path, '/x', 'the scheme is case-insensitive');
  const absRoot = parseAllWays('GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n').requests[0];
  assert.equal(absRoot.path, '/');
  assert.equal(parseAllWays('OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n').requests[0].path, '*');
  expectError('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 501);
  expectError('GET * HTTP/1.1\r\nHost: h\r\n\r\n', 400);
  expectError('GET example.com HTTP/1.1\r\nHost: h\r\n\r\n', 400);
  expectError('GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n', 400);
});

for (const [name, input, status] of MALFORMED) {
  test(`rejects: ${name} → ${status}`, () => {
    const out = expectError(input, status);
    assert.equal(out.requests.length, 0, 'no request may come out of a malformed message');
    assert.ok(out.error!.message.length > 0 && out.error!.message.length < 100, 'a short reason');
  });
}

test('errors are sticky: after an error every call throws', () => {
  const p = new RequestParser();
  p.feed(Buffer.from('GET / HTTP/1.1\nHost: h\r\n\r\n'));
  assert.throws(() => p.next(), HttpError);
  p.feed(Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
  assert.throws(() => p.next(), HttpError);
});

test('limits: 431 for a large head, 414 for a long target, 413 for a large body', () => {
  const big = 'X-Big: ' + 'a'.repeat(600) + '\r\n';
  expectError(`GET / HTTP/1.1\r\nHost: h\r\n${big}\r\n`, 431, { maxHeaderSize: 512 });
  // an unfinished head over the limit is refused before its end arrives
  const r = run([Buffer.from(`GET / HTTP/1.1\r\nHost: h\r\n${big}`)], { maxHeaderSize: 512 });
  assert.equal(r.error?.status, 431);
  expectError(`GET /${'a'.repeat(200)} HTTP/1.1\r\nHost: h\r\n\r\n`, 414, { maxTargetLength: 100 });
  const r2 = run([Buffer.from(`GET /${'a'.repeat(300)}`)], { maxTargetLength: 100 });
  assert.equal(r2.error?.status, 414, 'an unfinished over-long request line is 414 before it ends');
  expectError('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world', 413, { maxBodySize: 10 });
  expectError('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n', 413, { maxBodySize: 10 });
  const headers = Array.from({ length: 5 }, (_, i) => `X-${i}: v\r\n`).join('');
  expectError(`GET / HTTP/1.1\r\nHost: h\r\n${headers}\r\n`, 431, { maxHeaderCount: 4 });
});

test('chunk extensions are bounded (CVE-2024-22019)', () => {
  const ext = ';' + 'a'.repeat(5000);
  const r = run([Buffer.from(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5${ext}`)]);
  assert.equal(r.error?.status, 400, 'an unfinished over-long chunk line is refused without waiting for its end');
  expectError(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5${ext}\r\nhello\r\n0\r\n\r\n`, 400);
});

test('idle/inBody reflect progress', () => {
  const p = new RequestParser();
  assert.equal(p.idle, true);
  p.feed(Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nab'));
  assert.equal(p.idle, false);
  assert.equal(p.next(), HEAD);
  assert.equal(p.inBody, true);
  assert.equal(p.next(), DATA);
  assert.equal(p.next(), NEED_DATA);
  p.feed(Buffer.from('c'));
  assert.equal(p.next(), DATA);
  assert.equal(p.next(), END);
  assert.equal(p.idle, true);
});

test('a limit given as undefined keeps its default', () => {
  const r = run([Buffer.from(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`)], { maxHeaderSize: undefined });
  assert.equal(r.error?.status, 431);
});

test('finish(): a truncated head gets the status the same bytes get sent whole', () => {
  const bad = Buffer.from('FOO / HTTP/1.1\r\nHost: h\r\n'); // no empty line yet
  const whole = new RequestParser();
  whole.feed(bad);
  assert.throws(() => whole.next(), (e: HttpError) => e.status === 501);
  const slow = new RequestParser();
  for (const b of bad) {
    slow.feed(Buffer.from([b]));
    try { slow.next(); } catch { break; }
  }
  assert.throws(() => slow.finish(), (e: HttpError) => e.status === 501, 'judged at the end of input');
  const good = new RequestParser();
  good.feed(Buffer.from('GET / HTTP/1.1\r\nHo'));
  assert.equal(good.next(), NEED_DATA);
  assert.equal(good.finish(), true, 'a valid but unfinished head: unfinished, no error');
  const idle = new RequestParser();
  assert.equal(idle.finish(), false);
});

test('a slow sender\'s error is found while it is still sending, not only at the end', () => {
  const p = new RequestParser({ maxHeaderCount: 1000 });
  const head = Buffer.from(`GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n${'X-A: b\r\n'.repeat(500)}`);
  let status = 0;
  let at = 0;
  for (; at < head.length && status === 0; at++) {
    p.feed(head.subarray(at, at + 1));
    try { p.next(); } catch (err) { status = (err as HttpError).status; }
  }
  assert.equal(status, 400);
  assert.ok(at < head.length / 2, `found after ${at} of ${head.length} bytes`);
});

test('a slow sender costs linear work: bytes examined or copied stay within a small multiple of the input', () => {
  // many short lines, and one long line, each sent one byte at a time
  const heads = [
    `GET / HTTP/1.1\r\nHost: h\r\n${'X-A: b\r\n'.repeat(1500)}\r\n`,
    `GET / HTTP/1.1\r\nHost: h\r\nCookie: ${'c'.repeat(15_000)}\r\n\r\n`,
    `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;${'e=x;'.repeat(800)}e=x\r\nhello\r\n0\r\nT: ${'t'.repeat(12_000)}\r\n\r\n`,
  ];
  for (const head of heads) {
    const bytes = Buffer.from(head);
    const p = new RequestParser({ maxHeaderCount: 2000, maxChunkLineSize: 8192 });
    let heads = 0;
    let ends = 0;
    for (let i = 0; i < bytes.length; i++) {
      p.feed(bytes.subarray(i, i + 1));
      for (let ev = p.next(); ev !== NEED_DATA; ev = p.next()) {
        if (ev === HEAD) heads++;
        if (ev === END) ends++;
        if (ev === HEAD && p.head!.bodyKind === 0) break;
      }
    }
    assert.equal(heads, 1);
    const ratio = p.work / bytes.length;
    // a rescan of the pending line per byte would make this ratio thousands
    assert.ok(ratio < 8, `work ${p.work} for ${bytes.length} bytes (×${ratio.toFixed(1)})`);
    const once = new RequestParser({ maxHeaderCount: 2000, maxChunkLineSize: 8192 });
    once.feed(bytes);
    while (once.next() !== NEED_DATA && !once.idle);
    assert.ok(once.work <= 2 * bytes.length, `whole: work ${once.work} for ${bytes.length} bytes`);
  }
});

test('DATA views stay valid after later feeds (the parser never overwrites bytes it handed out)', () => {
  const input = Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n3\r\nghi\r\n0\r\n\r\n');
  const p = new RequestParser();
  const views: Buffer[] = [];
  for (let i = 0; i < input.length; i += 2) {
    p.feed(input.subarray(i, i + 2));
    for (let ev = p.next(); ev !== NEED_DATA; ev = p.next()) if (ev === DATA) views.push(p.data);
  }
  assert.equal(Buffer.concat(views).toString(), 'abcdefghi');
});

test('header lookups are case-insensitive, and names nobody asks for are not lower-cased', () => {
  const p = new RequestParser();
  p.feed(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: ua\r\nX-Thing: 1\r\nx-THING: 2\r\nX-Other: o\r\n\r\n'));
  assert.equal(p.next(), HEAD);
  const h = p.head!.headers;
  assert.equal(h.get('User-Agent'), 'ua');
  assert.equal(h.get('user-agent'), 'ua');
  assert.equal(h.has('HOST'), true);
  assert.equal(h.get('X-OTHER'), 'o');
  assert.deepEqual(h.getAll('X-Thing'), ['1', '2']);
  assert.equal(h.get('X-Missing'), undefined);
  assert.equal(h.get(''), undefined);
  assert.equal(h.has(''), false);
  assert.deepEqual(h.getAll(''), []);
  assert.equal(h.get('\u212aey'), undefined, 'only ASCII letters are folded');
  // a fresh head: a lookup of another length leaves unrecognised names alone
  const q = new RequestParser();
  q.feed(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX-Long-Name: 1\r\n\r\n'));
  q.next();
  q.head!.headers.get('x-short');
  assert.equal(q.head!.headers.lowerNames[1], '', 'not lower-cased: no lookup of its length');
  q.head!.headers.get('x-long-nam');
  assert.equal(q.head!.headers.lowerNames[1], '');
  q.head!.headers.get('x-long-namf');
  assert.equal(q.head!.headers.lowerNames[1], 'x-long-name', 'lower-cased once, when a lookup needed it');
});

test('Buffer#latin1Slice: Node still has it (else the parser runs on the slower fallback), and the fallback agrees', () => {
  assert.ok(
    NATIVE_LATIN1_SLICE,
    'Buffer.prototype.latin1Slice is gone or changed in this Node version: src/http/latin1.ts now uses buf.toString("latin1"); ' +
      'the parser still works, but check its speed and update the comment there',
  );
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.equal(latin1Slice(all, 0, 256), latin1SliceFallback(all, 0, 256));
  assert.equal(latin1Slice(all, 10, 20), latin1SliceFallback(all, 10, 20));
  for (let i = 0; i < 256; i++) assert.equal(latin1SliceFallback(all, i, i + 1).charCodeAt(0), i);
});
