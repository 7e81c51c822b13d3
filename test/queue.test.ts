// ExchangeQueue (src/http/h1/queue.ts): a FIFO linked through the requests, in request order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExchangeQueue } from '../src/http/h1/queue.js';
import type { IncomingRequest } from '../src/http/request.js';

const req = (id: number) => ({ id, _next: null }) as unknown as IncomingRequest & { id: number };
const ids = (rs: IncomingRequest[]) => rs.map((r) => (r as unknown as { id: number }).id);

test('first in, first out; length and first follow pushes and shifts', () => {
  const q = new ExchangeQueue();
  assert.equal(q.shift(), null);
  q.push(req(1));
  q.push(req(2));
  assert.equal(q.length, 2);
  assert.equal((q.first as unknown as { id: number }).id, 1);
  assert.equal((q.shift() as unknown as { id: number }).id, 1);
  q.push(req(3));
  assert.deepEqual(ids(q.takeAll()), [2, 3]);
  assert.equal(q.length, 0);
  assert.equal(q.first, null);
  q.push(req(4)); // usable again after emptying
  assert.deepEqual(ids(q.takeAll()), [4]);
});

test('a shifted request holds no link into the queue', () => {
  const q = new ExchangeQueue();
  const a = req(1);
  q.push(a);
  q.push(req(2));
  q.shift();
  assert.equal(a._next, null);
});
