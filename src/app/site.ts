// The demo site, the async book's: GET / → hello.html, GET /sleep → the same after a wait,
// anything else → 404.html. Plus GET /work?ms=N, the CPU-heavy twin of /sleep (runs on a thread).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Handler, SluiceResponse } from '../http/types.js';
import { Router } from './router.js';
import { workRoute } from './work.js';

/** The site/ folder shipped with the package. */
export const SITE_DIR = fileURLToPath(new URL('../../../site/', import.meta.url));

export interface DemoSiteOptions {
  /** How long GET /sleep waits. Default 5000 ms. */
  sleepMs?: number;
}

const HTML = 'text/html; charset=utf-8';

export function demoSite(options: DemoSiteOptions = {}): Handler {
  const sleepMs = options.sleepMs ?? 5000;
  const hello = readFileSync(new URL('hello.html', `file://${SITE_DIR}`));
  const missing = readFileSync(new URL('404.html', `file://${SITE_DIR}`));
  // Frozen: the same response object every time, so nothing is built per request.
  const ok: SluiceResponse = Object.freeze({ status: 200, headers: Object.freeze({ 'Content-Type': HTML }), body: hello });
  const notFound: SluiceResponse = Object.freeze({ status: 404, headers: Object.freeze({ 'Content-Type': HTML }), body: missing });
  return new Router()
    .get('/', () => ok)
    .get('/sleep', async () => {
      await sleep(sleepMs);
      return ok;
    })
    .get('/work', workRoute)
    .fallback(() => notFound).handle;
}
