// GET /work?ms=N: burn about N ms of CPU on a worker thread via spawn().
// N must be an integer from 1 to 1000; anything else is a 400 with a short plain-text reason.
// The page says how long the task ran and on which thread of which process; the process id is
// also in an `X-Worker` response header (handy for seeing --workers spread the load).
import type { Handler, SluiceResponse } from '../http/types.js';
import { spawn, SpawnQueueFullError } from '../threads/spawn.js';
import type { BurnResult } from './burn-task.js';

export const WORK_MAX_MS = 1000;

const burnTask = new URL('./burn-task.js', import.meta.url);

export const workRoute: Handler = async (req) => {
  const ms = parseMs(req.query);
  if (typeof ms === 'string') return text(400, `Bad Request: ${ms}\n`);
  let result: BurnResult;
  try {
    result = await spawn<BurnResult>(burnTask, 'burn', ms);
  } catch (err) {
    if (err instanceof SpawnQueueFullError) {
      return { ...text(503, 'Service Unavailable: too much work queued; retry shortly.\n'), headers: { ...TEXT_HEADERS, 'retry-after': '1' } };
    }
    throw err; // the engine answers 500
  }
  const worked = result.workedMs.toFixed(1);
  const body =
    '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>sluice: work</title></head>\n<body>\n' +
    `<h1>Worked ${worked} ms</h1>\n` +
    `<p>Asked for ${ms} ms of CPU; the busy loop ran ${worked} ms on worker thread ${result.threadId} ` +
    `of process ${result.pid}, while the event loop kept serving other requests.</p>\n` +
    '</body>\n</html>\n';
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-worker': String(process.pid),
    },
    body,
  };
};

const TEXT_HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

function text(status: number, body: string): SluiceResponse {
  return { status, headers: TEXT_HEADERS, body };
}

/** The `ms` parameter as a number, or the reason it is unacceptable. */
export function parseMs(query: string): number | string {
  let values: string[];
  try {
    values = new URLSearchParams(query).getAll('ms');
  } catch {
    return 'malformed query string';
  }
  if (values.length === 0) return `missing ms; use /work?ms=N with N from 1 to ${WORK_MAX_MS}`;
  if (values.length > 1) return 'ms given more than once';
  const raw = values[0]!;
  if (!/^[0-9]{1,4}$/.test(raw)) return `ms must be an integer from 1 to ${WORK_MAX_MS}`;
  const ms = Number(raw);
  if (ms < 1 || ms > WORK_MAX_MS) return `ms must be an integer from 1 to ${WORK_MAX_MS}`;
  return ms;
}
