// The parser, byte by byte: every case is fed whole and split at every byte position, and must
// give the same requests (or the same error) either way. The malformed inputs are the fuzzer's
// corpus (fuzz/corpus.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATA, END, HEAD, NEED_DATA, RequestParser, type ParserLimits } from '../src/http/parser.js';
import { HttpError } from '../src/http/errors.js';
import { MALFORMED } from '../fuzz/corpus.js';

interface Parsed {
  method: string;
  target: string;
  path: string;
  query: string;
  minor: number;
  headers: [string, string][];
  keepAlive: boolean;
  expectContinue: boolean;
  body: string;
  trailers: [string, string][];
}

type Outcome = { requests: Parsed[]; error?: { status: number; message: string } };

/** Feeds `pieces` one after another and collects every complete request, or the error. */
function run(pieces: Buffer[], limits?: Partial<ParserLimits>): Outcome {
  const p = new RequestParser(limits);
  const requests: Parsed[] = [];
  let cur: Parsed | null = null;
  try {
    for (const piece of pieces) {
      p.feed(piece);
      for (;;) {
        const ev = p.next();
        if (ev === NEED_DATA) break;
        if (ev === HEAD) {
          const h = p.head!;
          cur = {
            method: h.method, target: h.target, path: h.path, query: h.query, minor: h.minorVersion,
            headers: [...h.headers.entries()], keepAlive: h.keepAlive, expectContinue: h.expectContinue, body: '', trailers: [],
          };
          if (h.bodyKind === 0) { requests.push(cur); cur = null; }
        } else if (ev === DATA) {
          cur!.body += p.data.toString('latin1');
        } else if (ev === END) {
          cur!.trailers = p.head!.trailers ? [...p.head!.trailers.entries()] : [];
          requests.push(cur!);
          cur = null;
        }
      }
    }
    p.finish(); // end of input: a truncated head is judged as if sent whole
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected HttpError, got ${String(err)}`);
    return { requests, error: { status: err.status, message: err.message } };
  }
  return { requests };
}

/** Parses `input` whole, then split in two at every position, then one byte at a time; all must agree. */
function parseAllWays(input: string, limits?: Partial<ParserLimits>): Outcome {
  const bytes = Buffer.from(input, 'latin1');
  const whole = run([bytes], limits);
  for (let i = 1; i < bytes.length; i++) {
    const split = run([bytes.subarray(0, i), bytes.subarray(i)], limits);
    assert.deepEqual(split, whole, `split at byte ${i} differs from whole for ${JSON.stringify(input)}`);
  }
  const single = run([...bytes].map((b) => Buffer.from([b])), limits);
  assert.deepEqual(single, whole, `byte-at-a-time differs for ${JSON.stringify(input)}`);
  return whole;
}

function expectError(input: string, status: number, limits?: Partial<ParserLimits>): Outcome {
  const out = parseAllWays(input, limits);
  assert.ok(out.error, `expected ${status} for ${JSON.stringify(input)}, got ${JSON.stringify(out.requests)}`);
  assert.equal(out.error.status, status, `status for ${JSON.stringify(input)}: ${out.error.message}`);
  return out;
}

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

test('a slow sender costs linear work: 16 KiB head one byte at a time parses quickly', () => {
  const head = `GET / HTTP/1.1\r\nHost: h\r\n${'X-A: b\r\n'.repeat(1500)}\r\n`;
  const p = new RequestParser({ maxHeaderCount: 2000 });
  const bytes = Buffer.from(head);
  let heads = 0;
  for (let i = 0; i < bytes.length; i++) {
    p.feed(bytes.subarray(i, i + 1));
    if (p.next() === HEAD) heads++;
  }
  assert.equal(heads, 1);
  assert.equal(p.head!.headers.size, 1501);
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
