// spawn(): run CPU-bound work on a pool of worker threads.
//
// The async book's final project hands blocking work to `spawn_blocking`/a thread pool so the
// executor threads that drive sockets never stall. Node has one JavaScript thread per process,
// so a handler that burns CPU for 50 ms stalls every connection of that process for 50 ms.
// spawn() moves such work onto a pool of worker threads (piscina) and gives back a promise;
// the event loop keeps accepting and answering while the task runs.
//
// A task is a function exported from a module: `spawn(new URL('./task.js', import.meta.url),
// 'fnName', arg)`. The argument and the result cross the thread boundary by structured clone
// (plain data, Buffers, Maps...; no functions, no class instances). So does an error thrown by
// the task: spawn() rejects with an Error carrying the task's message and stack, but not its
// class or extra fields. An HttpError thrown inside a task therefore arrives as a plain Error
// (the engine makes that a 500); validate input in the handler, before spawn().
//
// The pool is created on the first spawn(), sized to the cores by default; configureSpawn()
// sets its size beforehand. With `--workers N` every worker process has its own pool, so the
// machine runs up to N × threads task threads (see src/cluster/primary.ts).
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';

export interface SpawnOptions {
  /** Threads in the pool. Default: os.availableParallelism(). */
  threads?: number;
  /**
   * Tasks waiting for a free thread; beyond this spawn() rejects with a SpawnQueueFullError
   * (workRoute answers 503). Default: Infinity (in practice bounded by the server's concurrency).
   */
  maxQueue?: number;
  /** How long closeSpawnPool() waits for running tasks before terminating the threads. Default 5000 ms. */
  closeTimeoutMs?: number;
}

export interface SpawnRunOptions {
  /** Aborting removes a queued task, or terminates the thread running it; spawn() rejects with an AbortError. */
  signal?: AbortSignal;
  /** ArrayBuffers/MessagePorts in `arg` to move to the thread instead of copying. */
  transferList?: readonly (ArrayBuffer | MessagePort)[];
}

/** spawn() rejected because `maxQueue` tasks were already waiting. */
export class SpawnQueueFullError extends Error {
  constructor() {
    super('spawn: the task queue is full');
    this.name = 'SpawnQueueFullError';
  }
}

let settings: Required<SpawnOptions> = defaults();
let pool: Piscina | null = null;

function defaults(): Required<SpawnOptions> {
  return { threads: os.availableParallelism(), maxQueue: Infinity, closeTimeoutMs: 5000 };
}

/**
 * Sets the pool's options. Call it before the first spawn() (or after closeSpawnPool());
 * changing the size of a running pool throws. Omitted fields get their defaults.
 */
export function configureSpawn(options: SpawnOptions): void {
  if (pool) throw new Error('configureSpawn: the pool is already running; call closeSpawnPool() first');
  const next = { ...defaults(), ...dropUndefined(options) };
  if (!Number.isInteger(next.threads) || next.threads < 1) {
    throw new RangeError(`configureSpawn: threads must be an integer >= 1, got ${options.threads}`);
  }
  if (!(next.maxQueue === Infinity || (Number.isInteger(next.maxQueue) && next.maxQueue >= 0))) {
    throw new RangeError(`configureSpawn: maxQueue must be an integer >= 0 or Infinity, got ${options.maxQueue}`);
  }
  if (!(Number.isFinite(next.closeTimeoutMs) && next.closeTimeoutMs >= 0)) {
    throw new RangeError(`configureSpawn: closeTimeoutMs must be >= 0, got ${options.closeTimeoutMs}`);
  }
  settings = next;
}

function getPool(): Piscina {
  if (pool) return pool;
  pool = new Piscina({
    // Every thread is started with the pool and kept: a thread takes ~30 ms and a few MB to
    // start, which a request should not pay. The pool itself only exists once spawn() is used.
    minThreads: settings.threads,
    maxThreads: settings.threads,
    maxQueue: settings.maxQueue,
    closeTimeout: settings.closeTimeoutMs,
  });
  // piscina emits 'error' when close() times out (before it terminates the threads); without a
  // listener that would be an uncaught exception at shutdown.
  pool.on('error', () => {});
  return pool;
}

/** Runs `exportName` from the module at `module` (a file URL or path) on a worker thread with `arg`. */
export function spawn<T = unknown>(module: string | URL, exportName: string, arg?: unknown, options: SpawnRunOptions = {}): Promise<T> {
  let filename: string;
  try {
    filename = modulePath(module);
  } catch (err) {
    return Promise.reject(err);
  }
  const p = getPool();
  return p
    .run(arg, {
      filename,
      name: exportName,
      signal: options.signal ?? null,
      transferList: options.transferList as never,
    })
    .catch((err: unknown) => {
      if (err instanceof Error && err.message === 'Task queue is at limit') throw new SpawnQueueFullError();
      throw err;
    }) as Promise<T>;
}

/**
 * Stops the pool's threads (for a clean exit): running tasks get up to `closeTimeoutMs` to
 * finish, then the threads are terminated. A later spawn() starts a new pool.
 */
export async function closeSpawnPool(): Promise<void> {
  const p = pool;
  if (!p) return;
  pool = null;
  await p.close();
}

function modulePath(module: string | URL): string {
  if (module instanceof URL) return fileURLToPath(module);
  if (typeof module !== 'string' || module === '') throw new TypeError('spawn: module must be a file URL or a path');
  if (module.startsWith('file:')) return fileURLToPath(module);
  return path.resolve(module);
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
