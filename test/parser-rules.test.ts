// The parser's conformance rules (README "Strictness"), each fed whole, split at every byte
// position and byte by byte: the NBSP smuggling input, Transfer-Encoding lists, bounded
// trailers, the method list, Content-Length digits, percent-encodings in the path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAD, NEED_DATA, RequestParser } from '../src/http/parser.js';
import { HttpError } from '../src/http/errors.js';
import { expectError, parseAllWays, run } from './helpers/parse.js';

test('request smuggling: "Transfer-Encoding: \\xa0chunked" is refused, nothing is framed from the body', () => {
  const input = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
  const out = expectError(input, 400);
  assert.equal(out.requests.length, 0, 'neither the POST nor the smuggled GET comes out');
  // the byte is kept in a value where it is not framing: 0xA0 is obs-text, legal in a field value
  const ok = parseAllWays('GET / HTTP/1.1\r\nHost: a\r\nX-Name: \xa0caf\xe9\xa0\r\n\r\n').requests[0];
  assert.deepEqual(ok.headers[1], ['X-Name', '\xa0caf\xe9\xa0'], 'only SP and HTAB are trimmed');
});

test('Transfer-Encoding: an empty element before chunked is legal (",chunked"), after it is not', () => {
  const out = parseAllWays('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,chunked\r\n\r\n1\r\na\r\n0\r\n\r\n');
  assert.equal(out.error, undefined, out.error?.message);
  assert.equal(out.requests[0].body, 'a');
  assert.equal(parseAllWays('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , \t,chunked\r\n\r\n0\r\n\r\n').requests.length, 1);
  expectError('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n', 400);
});

test('Connection tokens are split on commas and trimmed of SP/HTAB only', () => {
  const ka = (v: string) => parseAllWays(`GET / HTTP/1.1\r\nHost: h\r\nConnection: ${v}\r\n\r\n`).requests[0].keepAlive;
  assert.equal(ka('Upgrade,\t close '), false);
  assert.equal(ka('\xa0close'), true, 'an NBSP-prefixed token is not "close"');
});

test('trailers are bounded by maxHeaderSize: 6 MB in one feed is 431', () => {
  const head = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n';
  const line = `X-T: ${'a'.repeat(94)}\r\n`; // 100 bytes
  const r = run([Buffer.from(head + line.repeat(60_000) + '\r\n')], { maxHeaderSize: 16 * 1024, maxHeaderCount: 1_000_000 });
  assert.equal(r.error?.status, 431);
  assert.equal(r.requests.length, 0);
});

test('trailers are bounded across feeds: 1.48 MB one line per write is 431 as soon as 16 KiB is passed', () => {
  const p = new RequestParser({ maxHeaderSize: 16 * 1024, maxHeaderCount: 1_000_000 });
  p.feed(Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n'));
  assert.equal(p.next(), HEAD);
  const line = Buffer.from(`X-T: ${'a'.repeat(94)}\r\n`);
  let sent = 0;
  let status = 0;
  for (let i = 0; i < 14_800 && status === 0; i++) {
    p.feed(line);
    sent += line.length;
    try {
      assert.equal(p.next(), NEED_DATA);
    } catch (err) {
      assert.ok(err instanceof HttpError, String(err));
      status = err.status;
    }
  }
  assert.equal(status, 431);
  assert.ok(sent > 16 * 1024 && sent <= 16 * 1024 + line.length, `refused right after the limit, at ${sent} bytes`);
  // within the limit, trailers are kept
  const ok = parseAllWays('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\n\r\n', { maxHeaderSize: 1024 });
  assert.deepEqual(ok.requests[0].trailers, [['A', '1'], ['B', '2']]);
});

test('trailer lines are counted against maxHeaderCount', () => {
  const t = Array.from({ length: 5 }, (_, i) => `T-${i}: v\r\n`).join('');
  expectError(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${t}\r\n`, 431, { maxHeaderCount: 4 });
});

test('methods: the known list is accepted, others are 501, case matters, extraMethods adds to it', () => {
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'MKCOL', 'LOCK', 'REPORT', 'SEARCH']) {
    assert.equal(parseAllWays(`${m} / HTTP/1.1\r\nHost: h\r\n\r\n`).requests[0]?.method, m, m);
  }
  expectError('BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n', 501);
  expectError('Get / HTTP/1.1\r\nHost: h\r\n\r\n', 501);
  const limits = { extraMethods: ['BREW', 'WHEN'] };
  assert.equal(parseAllWays('BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n', limits).requests[0].method, 'BREW');
  expectError('brew /pot HTTP/1.1\r\nHost: h\r\n\r\n', 501, limits);
  assert.throws(() => new RequestParser({ extraMethods: ['BAD METHOD'] }), TypeError);
  // a long extra method raises the length bound for that parser only
  const long = 'X'.repeat(40);
  assert.equal(parseAllWays(`${long} / HTTP/1.1\r\nHost: h\r\n\r\n`, { extraMethods: [long] }).requests[0].method, long);
  expectError(`${long} / HTTP/1.1\r\nHost: h\r\n\r\n`, 400);
});

test('an over-long method is 400 even when the request line is long enough for 414', () => {
  const r = run([Buffer.from(`${'M'.repeat(100)} /${'a'.repeat(20_000)}`)], { maxTargetLength: 100 });
  assert.equal(r.error?.status, 400);
});

test('Content-Length: "0" is fine, leading zeros are not', () => {
  assert.equal(parseAllWays('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n').requests.length, 1);
  assert.equal(parseAllWays('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789').requests[0].body, '0123456789');
});

test('percent-encodings other than NUL, CR, LF pass; those in the query are the application\'s', () => {
  assert.equal(parseAllWays('GET /a%20b%2F%0g HTTP/1.1\r\nHost: h\r\n\r\n').requests[0].path, '/a%20b%2F%0g');
  assert.equal(parseAllWays('GET /a?x=%00%0d HTTP/1.1\r\nHost: h\r\n\r\n').requests[0].query, 'x=%00%0d');
});
