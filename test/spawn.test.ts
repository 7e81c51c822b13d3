// spawn() (worker-thread pool) and the GET /work route.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { spawn, configureSpawn, closeSpawnPool, SpawnQueueFullError } from '../src/threads/spawn.js';
import { workRoute, parseMs } from '../src/app/work.js';
import { serve } from '../src/server/server.js';
import type { SluiceRequest } from '../src/http/types.js';
import { startCli } from './helpers/cli.js';

const tasks = new URL('./fixtures/spawn-tasks.js', import.meta.url);

after(() => closeSpawnPool());

test('spawn runs an exported function on a worker thread and resolves with its result', { timeout: 10_000 }, async () => {
  const r = await spawn<{ sum: number; threadId: number }>(tasks, 'add', { a: 2, b: 40 });
  assert.equal(r.sum, 42);
  assert.notEqual(r.threadId, threadId, 'ran on another thread');
  // The module may be given as a URL object, a file: URL string or a path; "default" is the default export.
  assert.equal(await spawn(tasks.href, 'default', 'x'), 'default x');
  assert.equal(await spawn(fileURLToPath(tasks), 'default', 'y'), 'default y');
});

test('an error thrown in the task rejects the promise', { timeout: 10_000 }, async () => {
  await assert.rejects(spawn(tasks, 'boom', 'kaput'), (err: Error) => err instanceof Error && err.message === 'kaput');
  await assert.rejects(spawn(tasks, 'asyncBoom', 'later'), (err: Error) => err.message === 'later');
  await assert.rejects(spawn(tasks, 'noSuchExport', 1));
  await assert.rejects(spawn(new URL('./fixtures/does-not-exist.js', import.meta.url), 'x', 1));
  // The pool survives failures.
  assert.equal((await spawn<{ sum: number }>(tasks, 'add', { a: 1, b: 1 })).sum, 2);
});

test('configureSpawn sizes the pool; tasks run in parallel on distinct threads', { timeout: 10_000 }, async () => {
  await closeSpawnPool();
  assert.throws(() => configureSpawn({ threads: 0 }), RangeError);
  assert.throws(() => configureSpawn({ threads: 1.5 }), RangeError);
  configureSpawn({ threads: 2 });
  // Both tasks busy-wait at once: with two threads they cannot share one.
  const ids = await Promise.all([spawn<number>(tasks, 'hold', 150), spawn<number>(tasks, 'hold', 150)]);
  assert.notEqual(ids[0], ids[1]);
  assert.throws(() => configureSpawn({ threads: 3 }), /already running/);
  await closeSpawnPool();
  // After closing, a spawn starts a fresh pool.
  assert.equal((await spawn<{ sum: number }>(tasks, 'add', { a: 3, b: 4 })).sum, 7);
  await closeSpawnPool();
  configureSpawn({});
});

test('a full task queue rejects with SpawnQueueFullError', { timeout: 10_000 }, async () => {
  await closeSpawnPool();
  configureSpawn({ threads: 1, maxQueue: 1 });
  const results = await Promise.allSettled([1, 2, 3, 4].map(() => spawn<number>(tasks, 'hold', 100)));
  assert.ok(results.some((r) => r.status === 'fulfilled'), 'some ran');
  assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof SpawnQueueFullError), 'some were refused');
  await closeSpawnPool();
  configureSpawn({});
});

const fakeRequest = (query: string) => ({ method: 'GET', path: '/work', query }) as unknown as SluiceRequest;

test('GET /work validates ms: an integer from 1 to 1000, else 400 with a reason', { timeout: 10_000 }, async () => {
  for (const q of ['', 'ms=', 'ms=0', 'ms=1001', 'ms=abc', 'ms=1.5', 'ms=-3', 'ms=%2B5', 'ms=1e3', 'ms=5&ms=6', 'ms=99999']) {
    const res = await workRoute(fakeRequest(q));
    assert.equal(res.status, 400, `query "${q}"`);
    assert.match(String(res.headers?.['content-type']), /^text\/plain; charset=utf-8$/);
    assert.match(String(res.body), /^Bad Request: .+\n$/);
  }
  assert.equal(parseMs('ms=1'), 1);
  assert.equal(parseMs('x=y&ms=1000'), 1000);
  const res = await workRoute(fakeRequest('ms=20'));
  assert.equal(res.status, 200);
  assert.equal(res.headers?.['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers?.['x-worker'], String(process.pid));
  assert.match(String(res.body), /Worked \d+\.\d ms/);
  assert.match(String(res.body), new RegExp(`thread \\d+ of process ${process.pid}`));
});

test('through the server: a throwing task gives 500, a bad ms 400, a good one 200', { timeout: 10_000 }, async () => {
  const server = await serve(async (req) => {
    if (req.path === '/boom') return { body: await spawn<string>(tasks, 'boom', 'task failed') };
    return workRoute(req);
  }, { port: 0, onError: () => {} });
  try {
    const boom = await fetch(`${server.url}boom`, { signal: AbortSignal.timeout(5000) });
    assert.equal(boom.status, 500);
    await boom.arrayBuffer();
    const bad = await fetch(`${server.url}work?ms=0`, { signal: AbortSignal.timeout(5000) });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /ms must be an integer from 1 to 1000/);
    const good = await fetch(`${server.url}work?ms=5`, { signal: AbortSignal.timeout(5000) });
    assert.equal(good.status, 200);
    assert.match(await good.text(), /Worked/);
  } finally {
    await server.close(1000);
  }
});

test('GET / keeps answering while /work burns CPU on a thread', { timeout: 20_000 }, async () => {
  const app = await startCli(['--workers', '1', '--threads', '1']);
  try {
    // Warm the pool up (threads start on first use), so the timed /work below is all burning.
    assert.equal((await fetch(`${app.url}/work?ms=1`, { signal: AbortSignal.timeout(5000) })).status, 200);
    let workDoneAt = 0;
    const work = fetch(`${app.url}/work?ms=800`, { signal: AbortSignal.timeout(10_000) }).then(async (r) => {
      const body = await r.text();
      workDoneAt = performance.now();
      return { status: r.status, body };
    });
    await new Promise((r) => setTimeout(r, 100)); // let /work reach its thread
    const fastDoneAt: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${app.url}/`, { signal: AbortSignal.timeout(5000) });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      fastDoneAt.push(performance.now());
    }
    assert.equal(workDoneAt, 0, 'all five GET / came back while /work was still running');
    const w = await work;
    assert.equal(w.status, 200);
    const worked = Number(/Worked (\d+\.\d) ms/.exec(w.body)?.[1]);
    assert.ok(worked >= 800, `worked ${worked} ms`);
    assert.ok(fastDoneAt.every((t) => t < workDoneAt));
  } finally {
    await app.stop();
  }
});
