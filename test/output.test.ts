// Output buffering (src/http/h1/output.ts) and the undocumented Buffer methods it relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  HAS_FAST_WRITES, Output, writeLatin1, writeLatin1Fallback, writeUtf8, writeUtf8Fallback,
} from '../src/http/h1/output.js';

test('Node still has Buffer#latin1Write and #utf8Write (if this fails, sluice runs on the slower documented fallback: check the figures)', () => {
  const proto = Buffer.prototype as unknown as Record<string, unknown>;
  assert.equal(typeof proto.latin1Write, 'function', 'Buffer.prototype.latin1Write is gone');
  assert.equal(typeof proto.utf8Write, 'function', 'Buffer.prototype.utf8Write is gone');
  assert.equal(HAS_FAST_WRITES, true, 'present but no longer behaving as expected');
});

test('the fast writers and the documented fallback write the same bytes', () => {
  for (const [fast, slow, text] of [
    [writeLatin1, writeLatin1Fallback, 'HTTP/1.1 200 OK\r\nX-A: caf\u00e9\r\n\r\n'],
    [writeUtf8, writeUtf8Fallback, 'h\u00e9llo \u20ac \ud83d\ude00'],
  ] as const) {
    const a = Buffer.alloc(64);
    const b = Buffer.alloc(64);
    const n = fast(a, text, 3);
    assert.equal(slow(b, text, 3), n);
    assert.deepEqual(a, b);
  }
});

test('one flush carries every part, small batches copied, big ones corked; Latin-1 heads and UTF-8 text kept apart', () => {
  const sink = new PassThrough();
  const got: Buffer[] = [];
  sink.on('data', (d: Buffer) => got.push(d));
  const out = new Output();
  assert.equal(out.empty, true);
  out.text('HTTP/1.1 200 OK\r\nX: caf\u00e9\r\n\r\n');
  out.text('h\u00e9llo', Buffer.byteLength('h\u00e9llo'));
  out.bytes(Buffer.from('!'));
  out.flush(sink);
  assert.equal(out.empty, true);
  assert.deepEqual(Buffer.concat(got), Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nX: caf\u00e9\r\n\r\n', 'latin1'), Buffer.from('h\u00e9llo!')]));
  got.length = 0;
  const big = Buffer.alloc(100_000, 'z');
  out.text('head\r\n\r\n');
  out.bytes(big);
  out.text('\u20ac', 3);
  out.flush(sink);
  assert.deepEqual(Buffer.concat(got), Buffer.concat([Buffer.from('head\r\n\r\n'), big, Buffer.from('\u20ac')]));
});
