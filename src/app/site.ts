// The demo site, the async book's: GET / → hello.html, GET /sleep → the same after a wait,
// anything else → 404.html. It is the static file handler's general rule (a folder's index file,
// its 404.html for anything missing) applied to site/ with hello.html as the index, plus two
// routes: /sleep and GET /work?ms=N, the CPU-heavy twin of /sleep (runs on a thread).
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Handler } from '../http/types.js';
import { Router } from './router.js';
import { serveStatic } from './static/index.js';
import { withPath } from './with-path.js';
import { workRoute } from './work.js';

/** The site/ folder shipped with the package. */
export const SITE_DIR = fileURLToPath(new URL('../../../site/', import.meta.url));

export interface DemoSiteOptions {
  /** How long GET /sleep waits. Default 5000 ms. */
  sleepMs?: number;
  /** The folder served. Default SITE_DIR. */
  dir?: string;
}

export function demoSite(options: DemoSiteOptions = {}): Handler {
  const sleepMs = options.sleepMs ?? 5000;
  const files = serveStatic(options.dir ?? SITE_DIR, { index: ['hello.html'] });
  return new Router()
    .get('/sleep', async (req) => {
      await sleep(sleepMs);
      return files(withPath(req, '/'));
    })
    .get('/work', workRoute)
    .fallback(files).handle;
}
